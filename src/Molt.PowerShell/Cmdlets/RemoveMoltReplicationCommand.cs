using System.Management.Automation;
using Molt.Engine.Sessions;
using Molt.PowerShell.Completion;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Drops a stopped replication's slot and publication on the source, so the source stops keeping WAL for it, and marks the stream ended.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "MoltReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(ReplicationStatus))]
public sealed class RemoveMoltReplicationCommand : MoltEndpointsCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(FetchIdCompleter))]
    public string FetchId { get; set; } = string.Empty;

    /// <summary>The source slot, when it is not the one recorded for the stream.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [Alias("ReplicationSlot")]
    public string? SlotName { get; set; }

    /// <summary>The source publication, when it is not the default molt_&lt;fetchid&gt;.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PublicationName { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            var sourceAddress = SourceAddress();
            var targetAddress = TargetAddress();
            // An unknown FetchId is refused under -WhatIf too, rather than shown as something that would be dropped.
            RunEngine(ct => ReplicationControl.RequireRecordedAsync(targetAddress, FetchId, ct));
            if (!ShouldProcess($"replication '{FetchId}' on {sourceAddress.Display}", "Drop the replication slot and publication"))
            {
                return;
            }

            IReadOnlyList<Engine.Replication.ReplicationStatus> statuses = [];
            (bool SlotDropped, bool PublicationDropped) dropped = default;
            RunEngine(async ct =>
            {
                dropped = await ReplicationControl.RemoveAsync(sourceAddress, targetAddress, FetchId, SlotName, PublicationName, ct).ConfigureAwait(false);
                statuses = await ReplicationControl.ReadStatusAsync(targetAddress, FetchId, ct).ConfigureAwait(false);
            });
            WriteVerbose($"Replication '{FetchId}': slot {(dropped.SlotDropped ? "dropped" : "already gone")}, publication {(dropped.PublicationDropped ? "dropped" : "already gone")}.");
            foreach (var status in statuses)
            {
                WriteObject(EngineOutput.ToOutput(status, sourceAddress, targetAddress));
            }
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            WriteError(ToErrorRecord(ex, FetchId));
        }
    }
}
