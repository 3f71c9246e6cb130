using System.Management.Automation;
using Molt.Engine.Replication;
using Molt.Engine.Sessions;
using Molt.PowerShell.Completion;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Continues a replication from the checkpoint in the target, or a Start-MoltBulkLoad -ReplicationSlot load from its position.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Resume, "MoltReplication")]
[OutputType(typeof(ReplicationStatus), typeof(MoltReplicationJob))]
public sealed class ResumeMoltReplicationCommand : MoltRunCmdlet
{
    /// <summary>The stream (or -ReplicationSlot load) to continue; taken by property name from a load summary or a replication status.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(FetchIdCompleter))]
    public string FetchId { get; set; } = string.Empty;

    /// <summary>The source slot, when it is not the one recorded for the stream (or the load's -ReplicationSlot).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [Alias("ReplicationSlot")]
    public string? SlotName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PublicationName { get; set; }

    /// <summary>MySQL/MariaDB source: the -ZeroDateHandling the load used, so that streamed zero dates become what the loaded ones did.</summary>
    [Parameter]
    public Molt.ZeroDateHandling ZeroDateHandling { get; set; } = Molt.ZeroDateHandling.Null;

    [Parameter]
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(10);

    [Parameter]
    public SwitchParameter StopWhenCaughtUp { get; set; }

    /// <summary>A source position (an LSN such as 16/B374D848, a MariaDB GTID position such as 0-1-100, a MySQL GTID set): drain up to it, then stop.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StopAt { get; set; }

    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            ReplicationParameters.CheckInterval(StatusInterval);
            var sourceAddress = SourceAddress();
            var targetAddress = TargetAddress();
            var options = new ReplicationOptions
            {
                FetchId = FetchId,
                SlotName = SlotName,
                PublicationName = PublicationName,
                ZeroDates = EnumMappings.ZeroDateHandling.ToEngine(ZeroDateHandling),
                StatusInterval = StatusInterval,
                StopWhenCaughtUp = StopWhenCaughtUp,
                StopAt = StopAt,
            };
            RunReplication(AsJob, sourceAddress, targetAddress, $"Replication {FetchId}",
                (log, ct) => ReplicationSession.OpenAsync(sourceAddress, targetAddress, options, log, ct),
                session =>
                {
                    var stream = new ReplicationStream(session, newStream: false, sourceAddress, targetAddress);
                    var metrics = StartMetrics(session.FetchId);
                    return new ReplicationRun($"Replication {FetchId}", async (records, ct) =>
                    {
                        // The metrics are served as long as the run lasts, in its job too.
                        try
                        {
                            await stream.RunAsync((report, token) => session.ResumeAsync(metrics?.ObserveStream(report) ?? report, token), records, ct)
                                .ConfigureAwait(false);
                        }
                        finally
                        {
                            if (metrics is not null)
                            {
                                await metrics.DisposeAsync().ConfigureAwait(false);
                            }
                        }
                    });
                });
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            ThrowTerminatingError(ToErrorRecord(ex));
        }
    }
}
