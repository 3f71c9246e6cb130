using System.Management.Automation;
using Molt.Engine.Load;
using Molt.Engine.Schema;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// The progress records of one load: an overall record (tables done of total, rows of the estimate, time remaining
/// at the rate so far) with one child record per table being copied. Updates of a table closer together than the
/// interval are dropped, so a fast COPY does not flood the host.
/// </summary>
internal sealed class LoadProgressReport(IReadOnlyCollection<PlannedTable> tables)
{
    private const int OverallId = 1;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly long estimatedRows = tables.Sum(t => Math.Max(0, t.Plan.Source.EstimatedRows));
    private readonly Dictionary<TableName, int> ids = [];
    private readonly Dictionary<TableName, DateTime> lastUpdate = [];
    private readonly Dictionary<TableName, long> rows = [];
    private readonly DateTime started = DateTime.UtcNow;
    private int finished;

    private string Activity => $"Loading {tables.Count} table{(tables.Count == 1 ? "" : "s")}";

    /// <summary>The records to write for a table's progress: none when it is too soon after the last.</summary>
    public IEnumerable<ProgressRecord> Update(TableProgress progress)
    {
        var now = DateTime.UtcNow;
        rows[progress.Table] = progress.Rows;
        if (lastUpdate.TryGetValue(progress.Table, out var previous) && now - previous < Interval)
        {
            yield break;
        }

        lastUpdate[progress.Table] = now;
        yield return Overall(now);
        yield return new ProgressRecord(IdOf(progress.Table), $"Loading {progress.Table}",
            $"{progress.Rows:N0} of ~{progress.EstimatedRows:N0} rows, {progress.RowsPerSecond:N0} rows/s")
        {
            ParentActivityId = OverallId,
            PercentComplete = Percent(progress.Rows, progress.EstimatedRows),
        };
    }

    /// <summary>The records that close a finished table's progress and move the overall count on.</summary>
    public IEnumerable<ProgressRecord> Finished(TableLoadResult result)
    {
        finished++;
        rows[result.Table] = result.Rows;
        if (ids.TryGetValue(result.Table, out var id))
        {
            yield return new ProgressRecord(id, $"Loading {result.Table}", result.Status)
            {
                ParentActivityId = OverallId,
                RecordType = ProgressRecordType.Completed,
            };
        }

        yield return Overall(DateTime.UtcNow);
    }

    public ProgressRecord Completed() => new(OverallId, Activity, "done") { RecordType = ProgressRecordType.Completed };

    private ProgressRecord Overall(DateTime now)
    {
        var copied = rows.Values.Sum();
        var seconds = (now - started).TotalSeconds;
        var record = new ProgressRecord(OverallId, Activity,
            $"{finished} of {tables.Count} tables done, {copied:N0} of ~{estimatedRows:N0} rows")
        {
            PercentComplete = Percent(copied, estimatedRows),
        };
        if (copied > 0 && estimatedRows > copied && seconds > 1)
        {
            record.SecondsRemaining = (int)Math.Ceiling((estimatedRows - copied) / (copied / seconds));
        }

        return record;
    }

    private int IdOf(TableName table)
    {
        if (!ids.TryGetValue(table, out var id))
        {
            ids[table] = id = OverallId + 1 + ids.Count;
        }

        return id;
    }

    // An estimate is only an estimate: never show 100% before the table (or the load) has finished.
    private static int Percent(long done, long estimate) => estimate > 0 ? (int)Math.Min(99, done * 100 / estimate) : -1;
}
