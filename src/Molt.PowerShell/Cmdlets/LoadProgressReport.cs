using Molt.Engine.Load;
using Molt.Engine.Schema;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// The progress of one load: an overall activity (tables done of total, rows of the estimate, time remaining at the
/// rate so far) with one child activity per table being copied.
/// </summary>
internal sealed class LoadProgressReport(IReadOnlyCollection<PlannedTable> tables, ProgressWriter progress)
{
    // The overall activity's key: any object no table name equals.
    private readonly object overall = new();
    private readonly long estimatedRows = tables.Sum(t => Math.Max(0, t.Plan.Source.EstimatedRows));
    private readonly Dictionary<TableName, long> rows = [];
    private readonly DateTime started = DateTime.UtcNow;
    private int finished;

    private string Activity => $"Loading {tables.Count} table{(tables.Count == 1 ? "" : "s")}";

    /// <summary>Shows a table's progress, unless it is too soon after the last.</summary>
    public void Update(TableProgress table)
    {
        rows[table.Table] = table.Rows;
        if (!progress.IsDue(table.Table))
        {
            return;
        }

        ShowOverall();
        progress.Show(table.Table, $"Loading {table.Table}", $"{table.Rows:N0} of ~{table.EstimatedRows:N0} rows, {table.RowsPerSecond:N0} rows/s",
            table.Rows, table.EstimatedRows, parent: overall);
    }

    /// <summary>Closes a finished table's progress and moves the overall count on.</summary>
    public void Finished(TableLoadResult result)
    {
        finished++;
        rows[result.Table] = result.Rows;
        progress.Complete(result.Table, $"Loading {result.Table}", result.Status, parent: overall);
        ShowOverall();
    }

    public void Completed() => progress.Complete(overall, Activity, "done");

    private void ShowOverall()
    {
        var copied = rows.Values.Sum();
        var seconds = (DateTime.UtcNow - started).TotalSeconds;
        int? remaining = copied > 0 && estimatedRows > copied && seconds > 1 ? (int)Math.Ceiling((estimatedRows - copied) / (copied / seconds)) : null;
        progress.Show(overall, Activity, $"{finished} of {tables.Count} tables done, {copied:N0} of ~{estimatedRows:N0} rows", copied, estimatedRows,
            secondsRemaining: remaining);
    }
}
