using Molt.Engine.Schema;

namespace Molt.Engine.Replication;

/// <summary>
/// Where one stream's checkpoint stands: the last source transaction whose changes are committed on the target,
/// written in the same target transaction as those changes.
/// </summary>
public sealed record ReplicationCheckpoint(string FetchId, SourcePosition Position, DateTimeOffset SourceCommittedAt)
{
    /// <summary>Source transactions applied since the stream began.</summary>
    public long Transactions { get; init; }

    public long Inserts { get; init; }

    public long Updates { get; init; }

    public long Deletes { get; init; }
}

/// <summary>
/// A database Molt writes changes into: a pgwire target (PostgreSQL, CockroachDB), or for failback the original
/// MySQL/MariaDB or PostgreSQL source. One implementation per family under <c>Endpoints/</c>.
/// </summary>
internal interface IChangeApplier : IAsyncDisposable
{
    /// <summary>The checkpoint last committed for <paramref name="fetchId"/>, or null when the stream has never applied anything.</summary>
    Task<ReplicationCheckpoint?> ReadCheckpointAsync(string fetchId, CancellationToken cancellationToken);

    /// <summary>Opens one target transaction; several source transactions may be grouped into it.</summary>
    Task<IApplyTransaction> BeginAsync(IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken);
}

/// <summary>
/// One target transaction. Row changes are written in order (the applier batches them into multi-row statements,
/// flushing before any change a batch cannot reorder across); <see cref="CommitAsync"/> writes the checkpoint row and
/// commits both together, so a crash at any instant loses and duplicates nothing. Disposing without commit rolls back.
/// </summary>
internal interface IApplyTransaction : IAsyncDisposable
{
    ValueTask WriteAsync(RowChange change, CancellationToken cancellationToken);

    ValueTask TruncateAsync(TruncateChange change, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="checkpoint"/> and commits.</summary>
    /// <exception cref="TransientApplyException">The target asked for a retry (SQLSTATE 40001, lost connection): nothing was committed; apply the whole batch again.</exception>
    Task CommitAsync(ReplicationCheckpoint checkpoint, CancellationToken cancellationToken);
}

/// <summary>An apply failed in a way that rolling back and applying the same batch again can cure.</summary>
internal sealed class TransientApplyException(string message, Exception inner) : Exception(message, inner);
