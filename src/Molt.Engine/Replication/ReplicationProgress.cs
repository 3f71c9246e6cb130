namespace Molt.Engine.Replication;

/// <summary>Source transactions and row changes, counted as the checkpoint counts them.</summary>
internal readonly record struct ChangeCounts(long Transactions, long Inserts, long Updates, long Deletes)
{
    public long Changes => Inserts + Updates + Deletes;

    public static ChangeCounts operator +(ChangeCounts a, ChangeCounts b) =>
        new(a.Transactions + b.Transactions, a.Inserts + b.Inserts, a.Updates + b.Updates, a.Deletes + b.Deletes);

    public ChangeCounts With(RowChangeKind kind) => kind switch
    {
        RowChangeKind.Insert => this with { Inserts = Inserts + 1 },
        RowChangeKind.Update => this with { Updates = Updates + 1 },
        _ => this with { Deletes = Deletes + 1 },
    };

    public static ChangeCounts Of(ReplicationCheckpoint? checkpoint) =>
        checkpoint is null ? default : new(checkpoint.Transactions, checkpoint.Inserts, checkpoint.Updates, checkpoint.Deletes);
}

/// <summary>What a stream has committed on the target, and the status it reports from that.</summary>
internal sealed class ReplicationProgress(string fetchId, string? slot, SourcePosition start, ReplicationCheckpoint? checkpoint)
{
    private long changesAtLastStatus = ChangeCounts.Of(checkpoint).Changes;
    private DateTimeOffset lastStatusAt = DateTimeOffset.UtcNow;

    /// <summary>The last source position committed on the target (where the stream starts again after a failure).</summary>
    public SourcePosition Position { get; private set; } = checkpoint?.Position ?? start;

    public ReplicationCheckpoint? Checkpoint { get; private set; } = checkpoint;

    public ChangeCounts Totals { get; private set; } = ChangeCounts.Of(checkpoint);

    public DateTimeOffset? LastCommitAt { get; private set; } = checkpoint?.SourceCommittedAt;

    /// <summary>The latest source end known.</summary>
    public SourcePosition? SourceEnd { get; private set; }

    /// <summary>Retries of this run so far (see <see cref="ReplicationStatus.Retries"/>).</summary>
    public long Retries { get; private set; }

    public void Retried() => Retries++;

    public void Committed(ReplicationCheckpoint committed)
    {
        Checkpoint = committed;
        Position = committed.Position;
        LastCommitAt = committed.SourceCommittedAt;
        Totals = ChangeCounts.Of(committed);
        SawEnd(committed.Position);
    }

    /// <summary>Keeps the furthest end seen (a keepalive's, the source's current position, a commit's).</summary>
    public void SawEnd(SourcePosition? end)
    {
        if (end is not null && (SourceEnd is null || end.CompareWith(SourceEnd) == PositionOrder.After))
        {
            SourceEnd = end;
        }
    }

    /// <summary>The status now; the rate counts the changes since the previous status.</summary>
    public ReplicationStatus Status(ReplicationState state, bool caughtUp, SourcePosition? stopAt)
    {
        var now = DateTimeOffset.UtcNow;
        var seconds = (now - lastStatusAt).TotalSeconds;
        var rate = seconds > 0 ? (Totals.Changes - changesAtLastStatus) / seconds : 0;
        (changesAtLastStatus, lastStatusAt) = (Totals.Changes, now);
        return new ReplicationStatus(fetchId, state, now)
        {
            SourcePosition = Position,
            SourceEnd = SourceEnd,
            LagBytes = SourceEnd is PostgresLsn end && Position is PostgresLsn at ? (long)(end.Value > at.Value ? end.Value - at.Value : 0) : null,
            // Behind: how long ago the last applied transaction committed on the source, which the unapplied ones follow.
            LagSeconds = caughtUp ? 0 : LastCommitAt is { } commit ? Math.Max(0, (now - commit).TotalSeconds) : null,
            Transactions = Totals.Transactions,
            Inserts = Totals.Inserts,
            Updates = Totals.Updates,
            Deletes = Totals.Deletes,
            Retries = Retries,
            Rate = rate,
            LastCommitAt = LastCommitAt,
            Checkpoint = Checkpoint,
            StopAt = stopAt,
            Slot = slot,
        };
    }
}
