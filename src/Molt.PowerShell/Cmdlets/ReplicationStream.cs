using Molt.Engine;
using Molt.Engine.Endpoints;
using Molt.Engine.Sessions;
using Direction = Molt.Engine.Replication.ReplicationDirection;
using EngineStatus = Molt.Engine.Replication.ReplicationStatus;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// A stream run by Start- or Resume-MoltReplication or Invoke-MoltFailback, here or in its job: it writes the statuses and
/// lag, and, when the stream ends any other way than stopping, says how to go on and what the slot keeps.
/// </summary>
/// <param name="newStream">
/// A Start's stream, which exists only once the engine has claimed it: refused before that (its FetchId in use, a table it
/// cannot replicate, a slot name taken), there is no checkpoint to speak of and nothing to resume.
/// </param>
internal sealed class ReplicationStream(string fetchId, string? slot, Direction direction, bool newStream, EndpointAddress source, EndpointAddress target)
{
    /// <summary>The stream of a Resume (<paramref name="newStream"/> false) or of a Start (true).</summary>
    public ReplicationStream(ReplicationSession session, bool newStream, EndpointAddress source, EndpointAddress target)
        : this(session.FetchId, session.Slot, Direction.Forward, newStream, source, target)
    {
    }

    public ReplicationStream(FailbackSession session, EndpointAddress source, EndpointAddress target)
        : this(session.FetchId, session.Slot, Direction.Failback, false, source, target)
    {
    }

    public async Task RunAsync(Func<IProgress<EngineStatus>, CancellationToken, Task<EngineStatus>> stream, IReplicationRecords records,
        CancellationToken cancellationToken)
    {
        var report = new ReplicationStatusReport(records, source, target);
        try
        {
            report.Stopped(await stream(report, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (!IsRefusal(ex) && (!newStream || report.AnyReported))
        {
            var how = ex is OperationCanceledException ? "was interrupted" : "failed";
            var (name, continueWith, note) = direction == Direction.Failback
                ? ("Failback", "Invoke-MoltFailback", slot is null ? "" : " " + EngineOutput.FailbackSlotNote(slot, fetchId))
                : ("Replication", "Resume-MoltReplication", slot is null ? "" : " " + EngineOutput.SlotNote(slot, fetchId));
            records.Post(() => records.WriteWarning($"{name} '{fetchId}' {how}; its checkpoint stands: {continueWith} -FetchId '{fetchId}' continues it.{note}"));
            throw;
        }
    }

    /// <summary>Refused before streaming: the stream is someone else's or does not exist, so there is nothing of ours to continue.</summary>
    private static bool IsRefusal(Exception exception) =>
        exception is MoltException
        {
            ErrorId: "ReplicationStreamActive" or "ReplicationOppositeStreamActive" or "ReplicationNotFound" or "ReplicationNeedsFetchId" or "ReplicationLoadUnfinished"
                or "FailbackForwardNotStopped" or "FailbackNoStartPosition",
        };
}
