using System.Management.Automation;
using Molt.Engine.Sessions;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Lists the replication streams recorded in the target: state, positions, lag, counts and who runs each.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "MoltReplicationStatus")]
[OutputType(typeof(ReplicationStatus))]
public sealed class GetMoltReplicationStatusCommand : MoltTargetCmdlet
{
    protected override void ProcessRecord()
    {
        try
        {
            var address = TargetAddress();
            IReadOnlyList<Engine.Replication.ReplicationStatus> statuses = [];
            RunEngine(async ct => statuses = await ReplicationControl.ReadStatusAsync(address, FetchId, ct).ConfigureAwait(false));
            if (FetchId is not null && statuses.Count == 0)
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"The target has no replication with id '{FetchId}'."), "ReplicationNotFound",
                    ErrorCategory.ObjectNotFound, FetchId));
                return;
            }

            foreach (var status in statuses)
            {
                WriteObject(EngineOutput.ToOutput(status, null, address));
            }
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            WriteError(ToErrorRecord(ex));
        }
    }
}
