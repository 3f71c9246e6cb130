using System.Management.Automation;
using Molt.Engine.Sessions;
using Molt.Engine.State;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Lists the bulk-load runs recorded in the target's _molt schema, with their failed tables and exceptions.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "MoltFetchStatus")]
[OutputType(typeof(FetchRunStatus))]
public sealed class GetMoltFetchStatusCommand : MoltTargetCmdlet
{
    protected override void ProcessRecord()
    {
        try
        {
            var address = TargetAddress();
            IReadOnlyList<FetchRunReport> reports = [];
            RunEngine(async ct => reports = await FetchStatusSession.ReadAsync(address, FetchId, ct).ConfigureAwait(false));
            if (FetchId is not null && reports.Count == 0)
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"The target has no load run with id '{FetchId}'."), "FetchRunNotFound",
                    ErrorCategory.ObjectNotFound, FetchId));
                return;
            }

            foreach (var report in reports)
            {
                WriteObject(EngineOutput.ToOutput(report, address));
            }
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            WriteError(ToErrorRecord(ex));
        }
    }
}
