using System.Management.Automation;
using Molt.Engine.Load;
using Molt.Engine.Replication;
using Molt.Engine.Sessions;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Loads the selected tables from a consistent snapshot of the source (a PostgreSQL slot's, or a MySQL/MariaDB snapshot with its GTID position), then streams every later change into the target until stopped.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "MoltReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BulkLoadTableResult), typeof(BulkLoadSummary), typeof(ReplicationStatus), typeof(MoltReplicationJob))]
public sealed class StartMoltReplicationCommand : MoltLoadCmdlet
{
    /// <summary>PostgreSQL: the logical replication slot to create on the source (default molt_&lt;fetchid&gt;); refused for a MySQL/MariaDB source.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SlotName { get; set; }

    /// <summary>The publication to create on the source (default molt_&lt;fetchid&gt;).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PublicationName { get; set; }

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
                Load = LoadOptions(),
                FetchId = FetchId,
                SlotName = SlotName,
                PublicationName = PublicationName,
                ZeroDates = LoadSourceOptions().ZeroDates,
                StatusInterval = StatusInterval,
                StopWhenCaughtUp = StopWhenCaughtUp,
                StopAt = StopAt,
            };
            RunReplication(AsJob, sourceAddress, targetAddress, "Replication",
                (log, ct) => ReplicationSession.OpenAsync(sourceAddress, targetAddress, options, log, ct),
                session =>
                {
                    LoadPlan? plan = null;
                    RunEngine(async ct => plan = await session.PlanAsync(ct).ConfigureAwait(false));
                    var approved = Approve(plan!);
                    if (approved.Tables.Count == 0)
                    {
                        return null;
                    }

                    var stream = new ReplicationStream(session, newStream: true, sourceAddress, targetAddress);
                    var metrics = StartMetrics(session.FetchId);
                    return new ReplicationRun($"Replication {session.FetchId}", async (records, ct) =>
                    {
                        // The metrics are served as long as the run lasts, in its job too.
                        try
                        {
                            var (callbacks, progress) = LoadCallbacks(approved, records, sourceAddress, targetAddress);
                            await stream.RunAsync((report, token) => session.StartAsync(approved, metrics?.ObserveLoad(callbacks) ?? callbacks,
                                summary => records.Post(() =>
                                {
                                    progress.Completed();
                                    records.WriteObject(EngineOutput.ToOutput(summary, session.Slot, sourceAddress, targetAddress));
                                }), metrics?.ObserveStream(report) ?? report, token), records, ct).ConfigureAwait(false);
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
