using Molt.Engine;
using Molt.Engine.Endpoints;
using Molt.Engine.Sessions;
using EngineStatus = Molt.Engine.Replication.ReplicationStatus;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// A stream run by Start- or Resume-MoltReplication, here or in its job: it writes the statuses and lag, and, when the
/// stream ends any other way than stopping, says how to go on and what the slot keeps.
/// </summary>
internal sealed class ReplicationStream(ReplicationSession session, EndpointAddress source, EndpointAddress target)
{
    public async Task RunAsync(Func<IProgress<EngineStatus>, CancellationToken, Task<EngineStatus>> stream, IReplicationRecords records,
        CancellationToken cancellationToken)
    {
        var report = new ReplicationStatusReport(records, source, target);
        try
        {
            report.Stopped(await stream(report, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (!IsRefusal(ex))
        {
            var how = ex is OperationCanceledException ? "was interrupted" : "failed";
            records.Post(() => records.WriteWarning(
                $"Replication '{session.FetchId}' {how}; its checkpoint stands: Resume-MoltReplication -FetchId '{session.FetchId}' continues it. " +
                EngineOutput.SlotNote(session.Slot, session.FetchId)));
            throw;
        }
    }

    /// <summary>Refused before streaming: the stream is someone else's or does not exist, so there is nothing of ours to continue.</summary>
    private static bool IsRefusal(Exception exception) =>
        exception is MoltException { ErrorId: "ReplicationStreamActive" or "ReplicationNotFound" or "ReplicationNeedsFetchId" or "ReplicationLoadUnfinished" };
}
