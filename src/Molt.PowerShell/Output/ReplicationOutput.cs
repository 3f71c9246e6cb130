namespace Molt;

/// <summary>Where a replication stream stands (the engine's states by name).</summary>
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

/// <summary>Which way a stream's changes flow between a migration's endpoints (-Source and -Target keep their migration meaning).</summary>
public enum ReplicationDirection
{
    /// <summary>From the source into the target: Start- and Resume-MoltReplication.</summary>
    Forward,

    /// <summary>From the target back into the original source: Invoke-MoltFailback.</summary>
    Failback,
}

/// <summary>The last source transaction a stream committed on the target, written in the same target transaction as its data.</summary>
public sealed class ReplicationCheckpoint
{
    public string Position { get; init; } = string.Empty;

    /// <summary>When that transaction committed on the source.</summary>
    public DateTimeOffset SourceCommittedAt { get; init; }

    public long Transactions { get; init; }

    public long Inserts { get; init; }

    public long Updates { get; init; }

    public long Deletes { get; init; }

    public override string ToString() => $"{Position} ({SourceCommittedAt:u})";
}

/// <summary>
/// One status of a replication stream: written every -StatusInterval while it runs and once when it stops (then with
/// TargetPosition, where failback starts), and read back by Get-MoltReplicationStatus. Source, Target and FetchId pipe
/// into Resume-MoltReplication and Stop-MoltReplication by property name.
/// </summary>
public sealed class ReplicationStatus
{
    public string FetchId { get; init; } = string.Empty;

    /// <summary>Forward (source to target) or Failback (target back into the source): a FetchId has a stream each way.</summary>
    public ReplicationDirection Direction { get; init; }

    public ReplicationState State { get; init; }

    /// <summary>When this status was taken.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>The last source transaction committed on the target.</summary>
    public string? SourcePosition { get; init; }

    /// <summary>The latest end of the source's log known to the stream.</summary>
    public string? SourceEnd { get; init; }

    /// <summary>How far SourceEnd is ahead of SourcePosition in bytes of log (PostgreSQL), else null.</summary>
    public long? LagBytes { get; init; }

    /// <summary>How long ago the oldest source transaction not yet applied committed; 0 when caught up.</summary>
    public double? LagSeconds { get; init; }

    /// <summary>Source transactions applied since the stream began (over every resume).</summary>
    public long Transactions { get; init; }

    /// <summary>Inserts + Updates + Deletes.</summary>
    public long Changes { get; init; }

    public long Inserts { get; init; }

    public long Updates { get; init; }

    public long Deletes { get; init; }

    /// <summary>Changes applied per second over the last status interval.</summary>
    public double Rate { get; init; }

    /// <summary>The source commit time of the last applied transaction.</summary>
    public DateTimeOffset? LastCommitAt { get; init; }

    public ReplicationCheckpoint? Checkpoint { get; init; }

    /// <summary>The source position a drain is heading for (a stop request, -StopAt, the end seen when caught up).</summary>
    public string? StopAt { get; init; }

    /// <summary>In the final status: the target's own position when the stream stopped, where failback starts.</summary>
    public string? TargetPosition { get; init; }

    /// <summary>Who runs the stream now ("host pid N since time"), or null when nobody does.</summary>
    public string? HeldBy { get; init; }

    /// <summary>
    /// The logical replication slot the stream reads: forward, on the source; failback, on the target. It keeps that
    /// database's WAL until Remove-MoltReplication drops it.
    /// </summary>
    public string? Slot { get; init; }

    /// <summary>
    /// The slot on the target a forward stream's cutover (Stop-MoltReplication) made for failback: it keeps the target's
    /// WAL from the cutover on until Remove-MoltReplication drops it.
    /// </summary>
    public string? FailbackSlot { get; init; }

    /// <summary>Why the stream failed.</summary>
    public string? Error { get; init; }

    /// <summary>Said whenever a slot is left on the source or the target, since it holds WAL for as long as it exists.</summary>
    public string? Note { get; init; }

    /// <summary>The source endpoint without its password, when this session knows it (Get-MoltReplicationStatus reads the target only).</summary>
    public string? Source { get; init; }

    /// <summary>The target endpoint, without its password.</summary>
    public string Target { get; init; } = string.Empty;

    public override string ToString() => $"{FetchId}{(Direction == ReplicationDirection.Failback ? " (failback)" : "")}: {State} at {SourcePosition ?? "-"}";
}
