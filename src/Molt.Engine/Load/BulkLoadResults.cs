using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.State;

namespace Molt.Engine.Load;

/// <summary>A table as the load will treat it: its plan, the DDL before and after the data, and the shards' filter.</summary>
public sealed record PlannedTable(TablePlan Plan, string? Where, IReadOnlyList<string> PreLoad, IReadOnlyList<DdlStatement> PostLoad)
{
    /// <summary>
    /// The primary key, added as soon as the table's rows are in (before any foreign key needs it); null when created with the
    /// table. Adding it is skipped where the key exists (see <see cref="PrimaryKeyChoice.AddedIfMissing"/>).
    /// </summary>
    public string? PrimaryKeyAfterLoad { get; init; }

    /// <summary>When the table's primary key is made, and why; null when Molt does not create the table or it has no key.</summary>
    public PrimaryKeyChoice? PrimaryKey { get; init; }

    /// <summary>Why the table is loaded in a lesser way (no primary key: one shard, and replication will need a key).</summary>
    public string? Warning { get; init; }
}

/// <summary>
/// What a load would do: shown by -WhatIf, then executed. <see cref="Tables"/> are the ones to load now (a host leaves
/// out those declined at -Confirm); <see cref="Selection"/> is the whole run's, of a resumed run as it started.
/// </summary>
public sealed record LoadPlan(string FetchId, bool Resuming, IReadOnlyList<PlannedTable> Tables, string TargetDialect, LoadSelection Selection)
{
    /// <summary>The TRUNCATE or DROP over the selected tables, run before any table's own DDL; null under TableHandling None.</summary>
    public TableReset? Reset { get; init; }

    /// <summary>
    /// Whether the target checks <see cref="DdlStatements"/> in a transaction rolled back before anything is written
    /// (<see cref="DdlDryRun"/>): false where its dialect cannot, and for a resumed run, whose first attempt did.
    /// </summary>
    public bool ChecksDdlFirst { get; init; }

    /// <summary>How many DDL statements the load runs on the target, the TRUNCATE or DROP included.</summary>
    public int DdlStatements => DdlDryRun.InLoadOrder(this, Reset?.Sql).Count;

    /// <summary>Every fact of the source schema the target will not have, by table, with why: what -WhatIf and the summary list.</summary>
    public IReadOnlyList<NotCarriedFact> NotCarried => Tables
        .SelectMany(t => t.PostLoad.Where(s => s.Sql is null).Select(s => new NotCarriedFact(t.Plan.Source.Name, s.Column, s.Description, s.NotTranslatedReason ?? "")))
        .ToList();
}

/// <summary>
/// A fact of a source table (a default, a check, a generated expression, an index, a foreign key) the target will not
/// have, and why; <paramref name="Column"/> is the target column it is about, or null for a table-level fact.
/// </summary>
public sealed record NotCarriedFact(TableName Table, string? Column, string What, string Why)
{
    public override string ToString() => $"{Table}{(Column is null ? "" : "." + Column)}: {What}: {Why}";
}

/// <summary>Progress of one table while it loads; Rows include <see cref="RowsBefore"/>, the rows earlier attempts of the run loaded.</summary>
public sealed record TableProgress(TableName Table, long Rows, long EstimatedRows, long Bytes, TimeSpan Elapsed)
{
    public long RowsBefore { get; init; }

    /// <summary>The rate of this attempt: its rows over its time.</summary>
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? (Rows - RowsBefore) / Elapsed.TotalSeconds : 0;
}

public static class TableLoadStatus
{
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
    public const string Interrupted = "Interrupted";
}

/// <summary>
/// One table's outcome. Rows and Bytes include the shards earlier attempts of a resumed run loaded (<see cref="RowsBefore"/>
/// rows); Duration is this attempt's.
/// </summary>
public sealed record TableLoadResult(string FetchId, TableName Table, TableName TargetTable, long Rows, long Bytes, TimeSpan Duration, string Status,
    string? Error, int Shards)
{
    public long RowsBefore { get; init; }

    /// <summary>When the table's primary key was made, and why (<see cref="PlannedTable.PrimaryKey"/>).</summary>
    public PrimaryKeyChoice? PrimaryKey { get; init; }

    /// <summary>Whether a shard failed because the target's disk is full (SQLSTATE 53100): a resume loads it once there is room.</summary>
    public bool TargetDiskFull { get; init; }

    /// <summary>The rate of this attempt: the rows it loaded over its time.</summary>
    public double RowsPerSecond => Duration.TotalSeconds > 0 ? (Rows - RowsBefore) / Duration.TotalSeconds : 0;
}

/// <summary>
/// The outcome of a whole run. FailedTables failed; PendingTables are the run's tables that did not fail but are not all
/// in (declined at -Confirm, or not attempted): -Resume loads both.
/// </summary>
public sealed record BulkLoadSummary(string FetchId, string Status, SourcePosition? SnapshotPosition, int Tables, long Rows, long Bytes,
    TimeSpan Duration, IReadOnlyList<TableName> FailedTables)
{
    public IReadOnlyList<TableName> PendingTables { get; init; } = [];

    /// <summary>The plan's <see cref="LoadPlan.NotCarried"/>: what of the source schema the target does not have, and why.</summary>
    public IReadOnlyList<NotCarriedFact> NotCarried { get; init; } = [];

    /// <summary>Of <see cref="Rows"/>, those earlier attempts of the run loaded.</summary>
    public long RowsBefore { get; init; }

    /// <summary>The rate of this attempt: the rows it loaded over its time.</summary>
    public double RowsPerSecond => Duration.TotalSeconds > 0 ? (Rows - RowsBefore) / Duration.TotalSeconds : 0;

    /// <summary>Where this attempt's time went, planning included (<see cref="LoadTimings"/>).</summary>
    public IReadOnlyList<LoadPhase> Phases { get; init; } = [];
}
