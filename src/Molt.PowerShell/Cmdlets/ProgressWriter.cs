using System.Management.Automation;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// The progress records of one cmdlet invocation, whatever the flow: each activity (a key such as a table) gets an id
/// when first shown, optionally under a parent activity; updates of an activity closer together than the interval are
/// dropped, so a fast COPY does not flood the host; completing an activity closes the record the host shows for it.
/// </summary>
internal sealed class ProgressWriter(Action<ProgressRecord> write)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly Dictionary<object, int> ids = [];
    private readonly Dictionary<object, DateTime> lastShown = [];

    /// <summary>Whether an update of <paramref name="activity"/> is due (then it counts as shown now), or too soon after the last.</summary>
    public bool IsDue(object activity)
    {
        var now = DateTime.UtcNow;
        if (lastShown.TryGetValue(activity, out var previous) && now - previous < Interval)
        {
            return false;
        }

        lastShown[activity] = now;
        return true;
    }

    /// <summary>Shows an activity's state; a percentage of -1 is unknown, and an estimate never shows 100% before completion.</summary>
    public void Show(object activity, string title, string status, long done = 0, long estimate = 0, object? parent = null, int? secondsRemaining = null)
    {
        var record = Record(activity, title, status, parent);
        record.PercentComplete = estimate > 0 ? (int)Math.Min(99, done * 100 / estimate) : -1;
        if (secondsRemaining is { } seconds)
        {
            record.SecondsRemaining = seconds;
        }

        write(record);
    }

    /// <summary>Closes an activity's record, if it was ever shown.</summary>
    public void Complete(object activity, string title, string status, object? parent = null)
    {
        if (ids.ContainsKey(activity))
        {
            var record = Record(activity, title, status, parent);
            record.RecordType = ProgressRecordType.Completed;
            write(record);
        }
    }

    private ProgressRecord Record(object activity, string title, string status, object? parent)
    {
        var record = new ProgressRecord(IdOf(activity), title, status);
        if (parent is not null)
        {
            record.ParentActivityId = IdOf(parent);
        }

        return record;
    }

    private int IdOf(object activity)
    {
        if (!ids.TryGetValue(activity, out var id))
        {
            ids[activity] = id = ids.Count + 1;
        }

        return id;
    }
}
