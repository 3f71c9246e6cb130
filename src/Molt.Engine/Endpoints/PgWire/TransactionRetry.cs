using Molt.Engine.Load;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// Runs a transaction again when the server aborted it (what <see cref="PgWireErrorClassifier"/> calls
/// <see cref="ErrorAction.Retry"/>: a serialization failure, SQLSTATE 40001, or a deadlock). CockroachDB runs
/// every transaction SERIALIZABLE and asks clients to retry such errors
/// (https://www.cockroachlabs.com/docs/stable/transaction-retry-error-reference); PostgreSQL raises the same code under
/// SERIALIZABLE and REPEATABLE READ. The whole transaction is retried (the delegate opens, writes and commits), after an
/// exponential backoff with jitter so that conflicting writers spread out.
/// </summary>
internal sealed class TransactionRetry(int maxAttempts = 10, TimeSpan? initialDelay = null, TimeSpan? maxDelay = null) : ITransactionRetry
{
    public const string SerializationFailure = PgWireErrorClassifier.SerializationFailure;

    private readonly TimeSpan initial = initialDelay ?? TimeSpan.FromMilliseconds(50);
    private readonly TimeSpan ceiling = maxDelay ?? TimeSpan.FromSeconds(5);

    /// <summary>Runs <paramref name="transaction"/>; returns its result and how many attempts it took.</summary>
    /// <exception cref="MoltException">The transaction still failed with 40001 after the last attempt.</exception>
    public async Task<(T Result, int Attempts)> RunAsync<T>(Func<CancellationToken, Task<T>> transaction, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await transaction(cancellationToken).ConfigureAwait(false), attempt);
            }
            catch (PostgresException ex) when (PgWireErrorClassifier.Instance.Classify(ex) == ErrorAction.Retry && attempt < maxAttempts)
            {
                await Task.Delay(Delay(attempt), cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (PgWireErrorClassifier.Instance.Classify(ex) == ErrorAction.Retry)
            {
                throw new MoltException(MoltErrorKind.InvalidState, "TransactionRetriesExhausted",
                    $"A transaction was aborted by a conflicting one {maxAttempts} times in a row: {ex.MessageText}",
                    "Reduce concurrent writes to the same rows on the target (other writers, or fewer parallel workers), then run again.", ex);
            }
        }
    }

    /// <summary>Full jitter: a random delay up to the exponential bound, so retries of conflicting writers do not align.</summary>
    private TimeSpan Delay(int attempt)
    {
        var bound = Math.Min(ceiling.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * bound);
    }
}
