using System.Management.Automation;
using Molt.Engine.Replication;
using Molt.Engine.Sessions;
using Molt.PowerShell.Completion;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Sends every change written on the migration target since replication stopped back into the original source, and keeps it in sync until stopped.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "MoltFailback", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ReplicationStatus), typeof(MoltReplicationJob))]
public sealed class InvokeMoltFailbackCommand : MoltEndpointsCmdlet
{
    /// <summary>The migration's FetchId; taken by property name from Stop-MoltReplication's final status.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(FetchIdCompleter))]
    public string FetchId { get; set; } = string.Empty;

    /// <summary>A target position (an LSN such as 16/B374D848) to start after, instead of the one Stop-MoltReplication recorded.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StartAt { get; set; }

    [Parameter]
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(10);

    [Parameter]
    public SwitchParameter StopWhenCaughtUp { get; set; }

    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>MySQL/MariaDB original: the -ZeroDateHandling the load used, so that zero dates come back as the zero dates they were.</summary>
    [Parameter]
    public Molt.ZeroDateHandling ZeroDateHandling { get; set; } = Molt.ZeroDateHandling.Null;

    protected override void ProcessRecord()
    {
        try
        {
            ReplicationParameters.CheckInterval(StatusInterval);
            var sourceAddress = SourceAddress();
            var targetAddress = TargetAddress();
            if (!ShouldProcess(sourceAddress.Display, $"Apply the changes written on {targetAddress.Display} since replication '{FetchId}' stopped"))
            {
                return;
            }

            var options = new FailbackOptions
            {
                FetchId = FetchId, StartAt = StartAt, StatusInterval = StatusInterval, StopWhenCaughtUp = StopWhenCaughtUp,
                ZeroDates = EnumMappings.ZeroDateHandling.ToEngine(ZeroDateHandling),
            };
            RunReplication(AsJob, sourceAddress, targetAddress, $"Failback {FetchId}",
                (log, ct) => FailbackSession.OpenAsync(sourceAddress, targetAddress, options, log, ct),
                session =>
                {
                    var stream = new ReplicationStream(session, sourceAddress, targetAddress);
                    return new ReplicationRun($"Failback {FetchId}", (records, ct) => stream.RunAsync(session.RunAsync, records, ct));
                });
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            ThrowTerminatingError(ToErrorRecord(ex));
        }
    }
}
