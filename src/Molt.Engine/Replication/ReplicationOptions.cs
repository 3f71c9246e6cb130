namespace Molt.Engine.Replication;

/// <summary>What the stream does with a source TRUNCATE.</summary>
public enum TruncateHandling
{
    /// <summary>The target tables are truncated in the same target transaction as the source's other changes.</summary>
    Apply,

    /// <summary>The stream stops with <c>TruncateRefused</c> before applying the truncating transaction; the checkpoint stays before it.</summary>
    Refuse,
}

/// <summary>
/// How much one target transaction may hold. Several source transactions are grouped into one target transaction until a
/// bound is reached (a source transaction is never split, so one bigger than the bounds makes a bigger target
/// transaction on its own). Small target transactions cost a commit each; large ones hold locks longer and, on
/// CockroachDB, meet its transaction size limits and retry more.
/// </summary>
public sealed record ApplyBatchLimits(int MaxRows, long MaxBytes, TimeSpan MaxDelay)
{
    /// <summary>
    /// 10,000 rows or 8 MiB: far below CockroachDB's defaults for one transaction (kv.transaction.max_intents_bytes 4 MiB
    /// tracks intents precisely up to that size and coarsely beyond; the 64 MiB command size limit splits into batches),
    /// and a quarter second of grouping keeps lag well under a second.
    /// </summary>
    public static ApplyBatchLimits Default { get; } = new(10_000, 8L * 1024 * 1024, TimeSpan.FromMilliseconds(250));

    /// <summary>Rows of one multi-row statement: the protocol carries at most 65,535 parameters in one statement.</summary>
    public int RowsPerStatement(int columns) => Math.Max(1, Math.Min(MaxRows, ushort.MaxValue / Math.Max(1, columns)));
}

/// <summary>How a stream runs; the load part of a Start is <see cref="Load"/>.</summary>
public sealed record ReplicationOptions
{
    /// <summary>Every Start-MoltBulkLoad selection and handling option, for the load that precedes a Start.</summary>
    public Load.BulkLoadOptions Load { get; init; } = new();

    /// <summary>Start: the new stream's id (null: made as the load makes one); Resume: the stream to continue (required).</summary>
    public string? FetchId { get; init; }

    /// <summary>The source slot (default <c>molt_&lt;fetchid&gt;</c>).</summary>
    public string? SlotName { get; init; }

    /// <summary>The source publication (default <c>molt_&lt;fetchid&gt;</c>).</summary>
    public string? PublicationName { get; init; }

    /// <summary>MySQL/MariaDB: what a zero date becomes, in the load and in the streamed rows alike.</summary>
    public Schema.ZeroDateHandling ZeroDates { get; init; } = Schema.ZeroDateHandling.Null;

    public TimeSpan StatusInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Drain to the source end seen when the stream first catches up, then stop.</summary>
    public bool StopWhenCaughtUp { get; init; }

    /// <summary>Drain to this source position (its text form, e.g. "16/B374D848"), then stop.</summary>
    public string? StopAt { get; init; }

    public TruncateHandling Truncates { get; init; } = TruncateHandling.Apply;

    public ApplyBatchLimits Batch { get; init; } = ApplyBatchLimits.Default;
}
