using System.Management.Automation;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// Where a replication's records go while it runs: the invoking pipeline, or the streams of its job under -AsJob. Engine
/// callbacks hand their writes to <see cref="Post"/>, which runs them one at a time where the Write methods are allowed.
/// </summary>
internal interface IReplicationRecords
{
    void Post(Action write);

    void WriteObject(object value);

    void WriteError(ErrorRecord record);

    void WriteWarning(string text);

    void WriteProgress(ProgressRecord record);
}
