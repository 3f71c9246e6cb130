namespace Molt;

/// <summary>One table of a bulk load, written as soon as the table finishes. Pipes into Compare-MoltData (Source, Target, Table, Where).</summary>
public sealed class BulkLoadTableResult
{
    public string FetchId { get; init; } = string.Empty;

    public string Table { get; init; } = string.Empty;

    public string TargetTable { get; init; } = string.Empty;

    public long Rows { get; init; }

    public long Bytes { get; init; }

    public TimeSpan Duration { get; init; }

    public double RowsPerSecond { get; init; }

    /// <summary>Succeeded, Failed or Interrupted.</summary>
    public LoadStatus Status { get; init; }

    public string? Error { get; init; }

    public int Shards { get; init; }

    /// <summary>When the table's primary key was made (with the table, or after its rows) and why; null when the load did not create the table.</summary>
    public string? PrimaryKey { get; init; }

    /// <summary>The load's -Where predicate for this table, if any: Compare-MoltData takes it when the result is piped to it.</summary>
    public string? Where { get; init; }

    /// <summary>The source endpoint, without its password.</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>The target endpoint, without its password.</summary>
    public string Target { get; init; } = string.Empty;

    public override string ToString() => $"{Table}: {Status}, {Rows} rows";
}

/// <summary>
/// The outcome of a bulk load run: SnapshotPosition is where replication continues after it (Resume-MoltReplication
/// takes it by property name). FailedTables failed; PendingTables were not loaded (declined at -Confirm, or not
/// attempted): -Resume loads both.
/// </summary>
public sealed class BulkLoadSummary
{
    public string FetchId { get; init; } = string.Empty;

    /// <summary>Succeeded, Failed or Interrupted.</summary>
    public LoadStatus Status { get; init; }

    public string? SnapshotPosition { get; init; }

    public string? GtidSet { get; init; }

    public int Tables { get; init; }

    public long Rows { get; init; }

    public long Bytes { get; init; }

    public TimeSpan Duration { get; init; }

    public double RowsPerSecond { get; init; }

    public string[] FailedTables { get; init; } = [];

    public string[] PendingTables { get; init; } = [];

    /// <summary>Where the run's time went, phase by phase (planning included; parallel work adds up each task's time).</summary>
    public LoadPhaseTime[] Phases { get; init; } = [];

    /// <summary>What of the source schema the target does not have (a default, a check, a generated expression, an index, a foreign key), and why.</summary>
    public SchemaFactNotCarried[] NotCarried { get; init; } = [];

    /// <summary>
    /// The logical replication slot -ReplicationSlot created on the PostgreSQL source at the load's snapshot: it keeps
    /// the source's WAL from that point until replication consumes it or it is dropped.
    /// </summary>
    public string? ReplicationSlot { get; init; }

    public string Source { get; init; } = string.Empty;

    public string Target { get; init; } = string.Empty;

    public override string ToString() => $"{FetchId}: {Status}, {Tables} tables, {Rows} rows";
}

/// <summary>A load run recorded in the target, as Get-MoltFetchStatus reports it.</summary>
public sealed class FetchRunStatus
{
    public string FetchId { get; init; } = string.Empty;

    public LoadStatus Status { get; init; }

    public DateTimeOffset Started { get; init; }

    public DateTimeOffset? Finished { get; init; }

    public string Source { get; init; } = string.Empty;

    public string SourceKind { get; init; } = string.Empty;

    public string? SnapshotPosition { get; init; }

    public string TableHandling { get; init; } = string.Empty;

    public int Tables { get; init; }

    public int ShardsDone { get; init; }

    public int ShardsTotal { get; init; }

    public long Rows { get; init; }

    /// <summary>Tables with a shard that failed.</summary>
    public string[] FailedTables { get; init; } = [];

    /// <summary>Tables with shards not loaded yet (pending or interrupted), which -Resume loads.</summary>
    public string[] PendingTables { get; init; } = [];

    /// <summary>What of the source schema the target does not have (a default, a check, a generated expression, an index, a foreign key), and why.</summary>
    public SchemaFactNotCarried[] NotCarried { get; init; } = [];

    /// <summary>The failures recorded for the run.</summary>
    public LoadFailure[] Exceptions { get; init; } = [];

    /// <summary>The target the run is recorded in, without its password: the run pipes into Start-MoltBulkLoad -Resume.</summary>
    public string Target { get; init; } = string.Empty;

    public override string ToString() => $"{FetchId}: {Status}";
}

/// <summary>One failure recorded in the target's _molt.fetch_exceptions.</summary>
public sealed class LoadFailure
{
    public string? Table { get; init; }

    public int? Shard { get; init; }

    /// <summary>schema_creation, data_load or post_load.</summary>
    public string Stage { get; init; } = string.Empty;

    public string? SqlState { get; init; }

    public string Message { get; init; } = string.Empty;

    /// <summary>The key of the row the target refused, when known.</summary>
    public string? RowKey { get; init; }

    public override string ToString() => $"{Table} [{Stage}] {Message}{(RowKey is null ? "" : $" (row: {RowKey})")}";
}

/// <summary>A fact of a source table the target does not have, and why; Column is empty for a table-level fact.</summary>
public sealed class SchemaFactNotCarried
{
    public string Table { get; init; } = string.Empty;

    public string? Column { get; init; }

    public string What { get; init; } = string.Empty;

    public string Why { get; init; } = string.Empty;

    public override string ToString() => $"{Table}{(Column is null ? "" : "." + Column)}: {What}: {Why}";
}

/// <summary>One phase of a bulk load: its time summed over the Count times it ran.</summary>
public sealed class LoadPhaseTime
{
    public string Name { get; init; } = string.Empty;

    public TimeSpan Duration { get; init; }

    public int Count { get; init; }

    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Name} {Duration.TotalSeconds:F2} s") + (Count > 1 ? $" ({Count}x)" : "");
}
