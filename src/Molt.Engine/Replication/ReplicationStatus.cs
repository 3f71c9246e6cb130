namespace Molt.Engine.Replication;

public enum ReplicationState
{
    /// <summary>The tables are being loaded from the slot's snapshot; streaming follows.</summary>
    Loading,

    /// <summary>Applying changes, behind the source's end.</summary>
    Streaming,

    /// <summary>Everything the source has committed is applied.</summary>
    CaughtUp,

    /// <summary>Applying up to a stop position, then stopping.</summary>
    Draining,

    Stopped,

    Failed,
}

/// <summary>Which way a stream's changes flow between a migration's endpoints.</summary>
public enum ReplicationDirection
{
    /// <summary>From the migration's source into its target (Start-, Resume-MoltReplication).</summary>
    Forward,

    /// <summary>From the migration's target back into its original source (Invoke-MoltFailback).</summary>
    Failback,
}

/// <summary>
/// Where one stream stands: written every status interval, at the end (then with <see cref="TargetPosition"/>), and read
/// back from the target by Get-MoltReplicationStatus.
/// </summary>
public sealed record ReplicationStatus(string FetchId, ReplicationState State, DateTimeOffset At)
{
    /// <summary>Which way the stream's changes flow; a FetchId can have one stream each way.</summary>
    public ReplicationDirection Direction { get; init; }

    /// <summary>The last source transaction committed on the target (the checkpoint's position).</summary>
    public SourcePosition? SourcePosition { get; init; }

    /// <summary>The latest source end known (keepalives, the source's current position).</summary>
    public SourcePosition? SourceEnd { get; init; }

    /// <summary>How far <see cref="SourceEnd"/> is ahead of <see cref="SourcePosition"/> in bytes of log; null when the notation has no byte distance.</summary>
    public long? LagBytes { get; init; }

    /// <summary>How long ago the oldest source transaction not yet applied committed; 0 when caught up.</summary>
    public double? LagSeconds { get; init; }

    /// <summary>Source transactions applied since the stream began (over every resume).</summary>
    public long Transactions { get; init; }

    public long Inserts { get; init; }

    public long Updates { get; init; }

    public long Deletes { get; init; }

    public long Changes => Inserts + Updates + Deletes;

    /// <summary>
    /// Retries in this process's run of the stream (a lost source stream started again from the checkpoint, a batch the
    /// target aborted applied again); not stored in the target, so a status read back from there has 0.
    /// </summary>
    public long Retries { get; init; }

    /// <summary>Changes applied per second over the last status interval.</summary>
    public double Rate { get; init; }

    /// <summary>The source commit time of the last applied transaction.</summary>
    public DateTimeOffset? LastCommitAt { get; init; }

    public ReplicationCheckpoint? Checkpoint { get; init; }

    /// <summary>The source position a drain is heading for (a stop request, -StopAt, the end seen when caught up).</summary>
    public SourcePosition? StopAt { get; init; }

    /// <summary>
    /// In the final status: the target's own position at the moment the stream stopped, where failback starts reading the
    /// target (nothing Molt applied lies after it).
    /// </summary>
    public SourcePosition? TargetPosition { get; init; }

    /// <summary>Who runs the stream now ("host pid N since time"), or null when nobody does.</summary>
    public string? HeldBy { get; init; }

    /// <summary>The source slot, which keeps the source's log until the stream is removed.</summary>
    public string? Slot { get; init; }

    /// <summary>
    /// The logical replication slot on the migration target that failback reads (a forward stream stopped by a stop
    /// request on a PostgreSQL target with wal_level = logical creates it): it keeps the target's WAL until
    /// Remove-MoltReplication drops it.
    /// </summary>
    public string? FailbackSlot { get; init; }

    /// <summary>Why the stream failed.</summary>
    public string? Error { get; init; }
}
