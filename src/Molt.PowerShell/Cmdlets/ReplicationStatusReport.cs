using System.Globalization;
using Molt.Engine.Endpoints;
using EngineStatus = Molt.Engine.Replication.ReplicationStatus;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// A running stream's statuses as records: every status the engine reports becomes a Molt.ReplicationStatus (the
/// Loading one aside: the load's own progress and results cover it), and the lag is shown as progress until it stops.
/// </summary>
internal sealed class ReplicationStatusReport(IReplicationRecords records, EndpointAddress source, EndpointAddress target) : IProgress<EngineStatus>
{
    private const string Title = "Replication";
    private readonly ProgressWriter progress = new(records.WriteProgress);
    private readonly object activity = new();
    private EngineStatus? lastWritten;
    private volatile bool reported;

    /// <summary>Whether the engine reported any status: a Start's first one (Loading) comes once it has claimed and recorded the stream.</summary>
    public bool AnyReported => reported;

    public void Report(EngineStatus value)
    {
        reported = true;
        records.Post(() => Write(value));
    }

    /// <summary>The status the stream returned when it stopped: written unless it was reported already; then the slots it leaves.</summary>
    public void Stopped(EngineStatus final) => records.Post(() =>
    {
        if (!ReferenceEquals(final, lastWritten))
        {
            Write(final);
        }

        progress.Complete(activity, Title, final.State.ToString());
        foreach (var note in EngineOutput.SlotNotes(final))
        {
            records.WriteWarning(note);
        }
    });

    private void Write(EngineStatus status)
    {
        lastWritten = status;
        if (status.State == Engine.Replication.ReplicationState.Loading)
        {
            return;
        }

        records.WriteObject(EngineOutput.ToOutput(status, source, target));
        progress.Show(activity, Title, Lag(status));
    }

    private static string Lag(EngineStatus status)
    {
        var bytes = status.LagBytes is { } lag ? string.Create(CultureInfo.InvariantCulture, $"{lag:N0} bytes, ") : "";
        var seconds = status.LagSeconds is { } behind ? string.Create(CultureInfo.InvariantCulture, $"{behind:0.0} s behind") : "lag unknown";
        return string.Create(CultureInfo.InvariantCulture,
            $"{status.FetchId} {status.State} at {status.SourcePosition}: {bytes}{seconds}; {status.Changes:N0} changes, {status.Rate:N0}/s");
    }
}
