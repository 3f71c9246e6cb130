using Molt.Engine.Schema;
using Serilog;

namespace Molt.Engine.Replication;

/// <summary>
/// The open target transaction and the source transactions grouped into it. Every change written is also kept in a
/// <see cref="BatchLog"/>, so that when the target aborts the transaction (<see cref="TransientApplyException"/>) the
/// same changes are applied again in a new one, after a backoff, never skipped. A commit whose outcome is unknown (the
/// connection dropped during COMMIT) is settled by reading the checkpoint back before anything is applied again.
/// </summary>
/// <param name="retried">Called before each attempt to apply the batch again after the target aborted it.</param>
internal sealed class ApplyBatch(IChangeApplier applier, IReadOnlyList<TablePlan> plans, ApplyBatchLimits limits, ReplicationTiming timing, ILogger log,
    Action? retried = null)
    : IAsyncDisposable
{
    private readonly BatchLog changes = new(limits.MaxBytes);
    private IApplyTransaction? transaction;
    private BatchLog.Mark transactionStart;
    private ChangeCounts transactionCounts;
    private DateTimeOffset openedAt;

    /// <summary>Source transactions complete in the batch, and their changes.</summary>
    public ChangeCounts Counts { get; private set; }

    /// <summary>The commit of the last complete source transaction in the batch.</summary>
    public CommitChange? LastCommit { get; private set; }

    public bool HasTransactions => Counts.Transactions > 0;

    public long Bytes { get; private set; }

    /// <summary>True when the batch should commit at the next source transaction boundary.</summary>
    public bool IsFull => IsFullBySize || (HasTransactions && DateTimeOffset.UtcNow - openedAt >= limits.MaxDelay);

    /// <summary>
    /// The bound of a stream that is behind, where committing at the time bound would mostly add commits (the changes
    /// waiting are lag either way): as many rows or bytes as one target transaction may hold, or four times the time bound,
    /// so that the checkpoint and the slot still advance every second or so under a slow target.
    /// </summary>
    public bool IsFullBehind => IsFullBySize || (HasTransactions && DateTimeOffset.UtcNow - openedAt >= limits.MaxDelay * BehindDelayFactor);

    private bool IsFullBySize => Counts.Changes >= limits.MaxRows || Bytes >= limits.MaxBytes;

    private const int BehindDelayFactor = 4;

    public DateTimeOffset Deadline => openedAt + limits.MaxDelay;

    /// <summary>The spill file while the batch is too large for memory (tests watch it come and go).</summary>
    public string? SpillPath => changes.SpillPath;

    public void BeginTransaction()
    {
        if (!HasTransactions && changes.Count == 0)
        {
            openedAt = DateTimeOffset.UtcNow;
        }

        transactionStart = changes.Position;
        transactionCounts = default;
    }

    public async Task AddAsync(Change change, CancellationToken cancellationToken)
    {
        var size = BatchLog.Size(change);
        changes.Add(change, size);
        Bytes += size;
        if (change is RowChange row)
        {
            transactionCounts = transactionCounts.With(row.Kind);
        }

        try
        {
            transaction ??= await applier.BeginAsync(plans, cancellationToken).ConfigureAwait(false);
            await WriteAsync(transaction, change, cancellationToken).ConfigureAwait(false);
        }
        catch (TransientApplyException ex)
        {
            await ApplyAgainAsync(ex, null, cancellationToken).ConfigureAwait(false);
        }
    }

    public void EndTransaction(CommitChange commit)
    {
        Counts += transactionCounts with { Transactions = 1 };
        LastCommit = commit;
        transactionCounts = default;
    }

    /// <summary>
    /// Takes the source transaction being read out of the batch (it lies beyond a stop position, or was applied before):
    /// the target transaction is rolled back and the batch's earlier transactions applied again without it.
    /// </summary>
    public async Task DropTransactionAsync(CancellationToken cancellationToken)
    {
        changes.TruncateTo(transactionStart);
        transactionCounts = default;
        await RollBackAsync().ConfigureAwait(false);
        if (changes.Count > 0)
        {
            await ApplyAgainAsync(null, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Commits the batch's complete transactions with <paramref name="checkpoint"/>, retrying as the class says.</summary>
    public async Task CommitAsync(ReplicationCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        try
        {
            transaction ??= await applier.BeginAsync(plans, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(checkpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (TransientApplyException ex)
        {
            await ApplyAgainAsync(ex, checkpoint, cancellationToken).ConfigureAwait(false);
        }

        await RollBackAsync().ConfigureAwait(false);
        Reset();
    }

    /// <summary>Rolls back and forgets everything (the source stream is started again from the checkpoint).</summary>
    public async Task AbandonAsync()
    {
        await RollBackAsync().ConfigureAwait(false);
        Reset();
    }

    public async ValueTask DisposeAsync()
    {
        await RollBackAsync().ConfigureAwait(false);
        changes.Dispose();
    }

    private void Reset()
    {
        changes.Clear();
        (Counts, Bytes, LastCommit, transactionCounts) = (default, 0, null, default);
    }

    private async Task ApplyAgainAsync(Exception? failure, ReplicationCheckpoint? committing, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await RollBackAsync().ConfigureAwait(false);
            if (failure is not null)
            {
                if (attempt > timing.MaxAttempts)
                {
                    throw new MoltException(MoltErrorKind.InvalidState, "ApplyRetriesExhausted",
                        $"The target aborted the same batch {timing.MaxAttempts} times in a row; last: {failure.Message} Nothing of it is committed; the checkpoint stands.",
                        "Check the target (reachable, not overloaded, no other writer contending on the same rows), then resume.", failure);
                }

                retried?.Invoke();
                log.Warning("Applying the batch again (attempt {Attempt}): {Reason}", attempt + 1, failure.Message);
                await Task.Delay(timing.Backoff(attempt), cancellationToken).ConfigureAwait(false);
            }

            try
            {
                if (committing is not null && await applier.ReadCheckpointAsync(committing.FetchId, cancellationToken).ConfigureAwait(false) is { } stored
                    && stored.Position.HasReached(committing.Position))
                {
                    // The COMMIT reached the target before its connection failed.
                    return;
                }

                transaction = await applier.BeginAsync(plans, cancellationToken).ConfigureAwait(false);
                await foreach (var change in changes.ReplayAsync(cancellationToken).ConfigureAwait(false))
                {
                    await WriteAsync(transaction, change, cancellationToken).ConfigureAwait(false);
                }

                if (committing is not null)
                {
                    await transaction.CommitAsync(committing, cancellationToken).ConfigureAwait(false);
                }

                return;
            }
            catch (TransientApplyException ex)
            {
                failure = ex;
            }
        }
    }

    private static ValueTask WriteAsync(IApplyTransaction transaction, Change change, CancellationToken cancellationToken) => change switch
    {
        RowChange row => transaction.WriteAsync(row, cancellationToken),
        TruncateChange truncate => transaction.TruncateAsync(truncate, cancellationToken),
        _ => ValueTask.CompletedTask,
    };

    private async Task RollBackAsync()
    {
        if (transaction is not null)
        {
            var open = transaction;
            transaction = null;
            await open.DisposeAsync().ConfigureAwait(false);
        }
    }
}
