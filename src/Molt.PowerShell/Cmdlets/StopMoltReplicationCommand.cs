using System.Management.Automation;
using Molt.Engine.Sessions;
using Molt.PowerShell.Completion;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Asks a running replication (or with -Failback its failback) to stop, from any session, and waits until it has drained and stopped; emits its final status.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "MoltReplication")]
[OutputType(typeof(ReplicationStatus))]
public sealed class StopMoltReplicationCommand : MoltTargetCmdlet
{
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(FetchIdCompleter))]
    public override string? FetchId { get; set; }

    /// <summary>Stop at the next source commit instead of draining to the source's current end.</summary>
    [Parameter]
    public SwitchParameter Immediately { get; set; }

    /// <summary>Stop the failback stream of the FetchId (Invoke-MoltFailback) instead of its forward replication.</summary>
    [Parameter]
    public SwitchParameter Failback { get; set; }

    /// <summary>How long to wait for the stream to stop; the stop request stays recorded when the wait runs out.</summary>
    [Parameter]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    protected override void ProcessRecord()
    {
        try
        {
            var address = TargetAddress();
            var fetchId = FetchId!;
            var direction = Failback ? Engine.Replication.ReplicationDirection.Failback : Engine.Replication.ReplicationDirection.Forward;
            Engine.Replication.ReplicationStatus? final = null;
            RunEngine(async ct =>
            {
                await ReplicationControl.RequestStopAsync(address, fetchId, Immediately, direction, ct).ConfigureAwait(false);
                final = await ReplicationControl.WaitForStopAsync(address, fetchId, Timeout, direction, ct).ConfigureAwait(false);
            });
            WriteObject(EngineOutput.ToOutput(final!, null, address));
            if (final!.State == Engine.Replication.ReplicationState.Failed)
            {
                var (name, resume) = Failback ? ("Failback", "Invoke-MoltFailback") : ("Replication", "Resume-MoltReplication");
                WriteError(new ErrorRecord(new InvalidOperationException($"{name} '{fetchId}' failed instead of stopping: {final.Error}"),
                    "ReplicationFailed", ErrorCategory.InvalidResult, fetchId)
                {
                    ErrorDetails = new ErrorDetails($"{name} '{fetchId}' failed instead of stopping: {final.Error}")
                    {
                        RecommendedAction = $"Fix the cause, then {resume} -FetchId '{fetchId}' -StopWhenCaughtUp drains it from its checkpoint.",
                    },
                });
            }

            foreach (var note in EngineOutput.SlotNotes(final))
            {
                WriteWarning(note);
            }
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            WriteError(ToErrorRecord(ex, FetchId));
        }
    }
}
