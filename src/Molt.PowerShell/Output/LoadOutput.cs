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
    public string Status { get; init; } = string.Empty;

    public string? Error { get; init; }

    public int Shards { get; init; }

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
/// takes it by property name), FailedTables what -Resume will redo.
/// </summary>
public sealed class BulkLoadSummary
{
    public string FetchId { get; init; } = string.Empty;

    /// <summary>succeeded or failed.</summary>
    public string Status { get; init; } = string.Empty;

    public string? SnapshotPosition { get; init; }

    public string? GtidSet { get; init; }

    public int Tables { get; init; }

    public long Rows { get; init; }

    public long Bytes { get; init; }

    public TimeSpan Duration { get; init; }

    public double RowsPerSecond { get; init; }

    public string[] FailedTables { get; init; } = [];

    public string Source { get; init; } = string.Empty;

    public string Target { get; init; } = string.Empty;

    public override string ToString() => $"{FetchId}: {Status}, {Tables} tables, {Rows} rows";
}

/// <summary>A load run recorded in the target, as Get-MoltFetchStatus reports it.</summary>
public sealed class FetchRunStatus
{
    public string FetchId { get; init; } = string.Empty;

    public string Status { get; init; } = string.Empty;

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

    public string[] FailedTables { get; init; } = [];

    /// <summary>The failures recorded for the run (table, stage, message, row key).</summary>
    public string[] Exceptions { get; init; } = [];

    public override string ToString() => $"{FetchId}: {Status}";
}
