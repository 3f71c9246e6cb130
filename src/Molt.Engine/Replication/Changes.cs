using Molt.Engine.Schema;

namespace Molt.Engine.Replication;

/// <summary>
/// One item of a change stream. A stream yields, for each committed source transaction in commit order:
/// <see cref="BeginChange"/>, then its <see cref="RowChange"/>s and <see cref="TruncateChange"/>s, then
/// <see cref="CommitChange"/>. A transaction is never held whole: consumers apply or spill it as it arrives.
/// </summary>
internal abstract record Change;

/// <summary>A source transaction begins. <see cref="TransactionId"/> is the source's own id (xid, GTID), for messages only.</summary>
internal sealed record BeginChange(string TransactionId) : Change;

/// <summary>The source transaction committed: everything up to <see cref="Position"/> has been delivered.</summary>
internal sealed record CommitChange(SourcePosition Position, DateTimeOffset CommittedAt) : Change;

/// <summary>The source truncated these tables in the transaction.</summary>
internal sealed record TruncateChange(IReadOnlyList<TableName> Tables, bool Cascade) : Change;

internal enum RowChangeKind
{
    Insert,
    Update,
    Delete,
}

/// <summary>What a row image holds for one column.</summary>
internal enum ColumnValueState : byte
{
    /// <summary>The value is in the image (a null value too).</summary>
    Present,
    /// <summary>
    /// The source did not send it because it did not change (PostgreSQL TOASTed values, MySQL minimal row images): the
    /// target's current value stands and must never be overwritten.
    /// </summary>
    Unchanged,
}

/// <summary>
/// A row image in <see cref="ChangeTable.Columns"/> order. Values are in the source's exact form as the load reads it:
/// text in the source's own output format for PostgreSQL (written through the same type mapping as the load's), and
/// for MySQL/MariaDB the parameter values the one MySQL value conversion (MySqlValueTable) gives for the plan's target
/// columns, so that a streamed row is written exactly as the loaded one.
/// </summary>
internal sealed record RowImage(IReadOnlyList<object?> Values, IReadOnlyList<ColumnValueState> States)
{
    public bool IsPresent(int column) => States[column] == ColumnValueState.Present;
}

/// <summary>
/// An inserted, updated or deleted row. <see cref="Key"/> identifies the row on the target before the change (the
/// primary key, or every column under REPLICA IDENTITY FULL for a table without one); <see cref="OldKey"/> is set
/// only when an update changed the key (Key then names the row as it was). <see cref="New"/> is the row after an
/// insert or update; <see cref="Old"/> the whole old row where the source sends it (REPLICA IDENTITY FULL, MySQL full images).
/// </summary>
internal sealed record RowChange(ChangeTable Table, RowChangeKind Kind) : Change
{
    public RowImage? New { get; init; }

    public RowImage? Old { get; init; }

    /// <summary>The key columns' values (in <see cref="ChangeTable.KeyColumns"/> order) of the row the change applies to.</summary>
    public required IReadOnlyList<object?> Key { get; init; }

    /// <summary>For an update that changed the key: the old key (<see cref="Key"/> is then the old one too, kept for matching).</summary>
    public IReadOnlyList<object?>? OldKey { get; init; }

    public bool KeyChanged => OldKey is not null;
}

/// <summary>
/// A replicated table as the change stream describes it (a pgoutput Relation, a binlog table map resolved against the
/// catalog): its name and columns in stream order, and which of them identify a row. The stream checks it against the
/// load's plan and stops with an error naming the change when the two differ.
/// </summary>
internal sealed record ChangeTable(TableName Name, IReadOnlyList<string> Columns, IReadOnlyList<string> KeyColumns)
{
    /// <summary>True when rows are matched by every column because the table has no primary key (REPLICA IDENTITY FULL).</summary>
    public bool MatchesByAllColumns { get; init; }
}
