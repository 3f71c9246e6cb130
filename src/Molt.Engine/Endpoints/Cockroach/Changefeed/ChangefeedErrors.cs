using System.Globalization;
using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>The errors of the changefeed change source, each with its stable id and what to do.</summary>
internal static class ChangefeedErrors
{
    public static MoltException UnknownTable(string? topic) => new(MoltErrorKind.SchemaMismatch, "ChangefeedUnknownTable",
        $"The changefeed sent a row of '{topic ?? "(no table)"}', which is not one of the tables failback watches.",
        "Failback watches the tables of the migration only; start it again so the changefeed is created for exactly those.")
    {
        Target = topic,
    };

    /// <summary>A column added on the target after cutover: the original database has nowhere to put it.</summary>
    public static MoltException UnknownColumn(TableName table, string column) => new(MoltErrorKind.SchemaMismatch, "ChangefeedUnknownColumn",
        $"The changefeed sent column '{column}' of {table}, which the migration's plan does not have: the table changed on the target after cutover. Nothing of that window is applied.",
        "Add the column to the original database too (or drop it from the target), then resume failback.")
    {
        Target = $"{table}.{column}",
    };

    /// <summary>
    /// The cursor lies before the GC threshold: the row versions since then may be gone. A changefeed "will encounter an
    /// error if you specify a timestamp that is before the configured garbage collection window for the target table"
    /// (https://www.cockroachlabs.com/docs/stable/create-changefeed#cursor, gc.ttlseconds).
    /// </summary>
    public static MoltException CursorPastGcWindow(CockroachHlc cursor, TableName table, int ttlSeconds, TimeSpan age) =>
        new(MoltErrorKind.InvalidState, "ChangefeedCursorPastGcWindow",
            string.Create(CultureInfo.InvariantCulture,
                $"Failback would resume at {cursor} ({cursor.WallTime:u}), {age.TotalSeconds:F0} s ago, but {table} keeps old row versions for gc.ttlseconds = {ttlSeconds} s only: changes made on the target since then may be gone."),
            $"Nothing can be resumed from there: load the original database again from the target. To keep failback resumable for longer, raise the table's gc.ttlseconds above the longest time failback may be stopped (ALTER TABLE ... CONFIGURE ZONE USING gc.ttlseconds = <seconds>).")
        {
            Target = table.ToString(),
        };

    /// <summary>What CockroachDB itself says when the cursor is older than the GC threshold ("must be after replica GC threshold").</summary>
    public static bool IsGcThresholdError(string message) =>
        message.Contains("GC threshold", StringComparison.OrdinalIgnoreCase) || message.Contains("gc.ttlseconds", StringComparison.OrdinalIgnoreCase);

    public static MoltException GcThresholdReported(CockroachHlc cursor, string serverMessage, Exception inner) =>
        new(MoltErrorKind.InvalidState, "ChangefeedCursorPastGcWindow",
            $"CockroachDB refused to resume the changefeed at {cursor}: {serverMessage}",
            "The target no longer keeps the row versions since the checkpoint (gc.ttlseconds passed): load the original database again from the target, and raise gc.ttlseconds above the longest time failback may be stopped.",
            inner);
}
