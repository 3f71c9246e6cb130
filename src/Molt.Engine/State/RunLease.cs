using Npgsql;

namespace Molt.Engine.State;

/// <summary>
/// A load run's claim on its state, so that two sessions never load the same run's shards at once (a -Resume typed
/// while the run still goes on elsewhere would copy the same rows twice). The claim lives in a connection of its own and
/// ends with it, whether the load finishes or its process dies. PostgreSQL holds it as a session advisory lock, which
/// takes no transaction ID: an open transaction with one would hold back vacuum and make every logical replication slot
/// created on that server wait for the whole load. CockroachDB, whose advisory locks are no-ops
/// (https://www.cockroachlabs.com/docs/stable/postgresql-compatibility), holds it as a write to the run's row in an
/// open transaction (see <see cref="RowClaimStatements"/>).
/// </summary>
internal sealed class RunLease : IAsyncDisposable
{
    /// <summary>How long a run waits for another session's claim: long enough for the server to end a killed process's session.</summary>
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    // One 64-bit key per run id; the prefix keeps Molt's keys apart from an application's own advisory locks.
    private const string AdvisoryKey = "hashtextextended('molt fetch run ' || $1, 0)";

    private readonly NpgsqlConnection connection;
    private readonly string release;
    private readonly string? releaseParameter;

    private RunLease(NpgsqlConnection connection, string release, string? releaseParameter) =>
        (this.connection, this.release, this.releaseParameter) = (connection, release, releaseParameter);

    public static async Task<RunLease> AcquireAsync(NpgsqlDataSource target, RunLeaseKind kind, string fetchId, CancellationToken cancellationToken) =>
        await TryAcquireAsync(target, kind, fetchId, Wait, cancellationToken).ConfigureAwait(false)
        ?? throw new MoltException(MoltErrorKind.InUse, "FetchRunActive",
            $"Load run '{fetchId}' is still running in another session: two sessions loading one run would copy the same rows twice.",
            "Wait for it to finish, or stop it (Ctrl+C) and run -Resume again. If its process is gone but the target still holds its session " +
            "(its machine lost the network), end that session (PostgreSQL: pg_terminate_backend with the pid pg_locks shows holding the " +
            "advisory lock; CockroachDB: CANCEL SESSION with the id SHOW SESSIONS gives for the open transaction on _molt.fetch_leases).")
        {
            Target = fetchId,
        };

    /// <summary>Whether some session holds the run's claim now, that is, whether the run is being loaded.</summary>
    public static async Task<bool> IsHeldAsync(NpgsqlDataSource target, RunLeaseKind kind, string fetchId, CancellationToken cancellationToken)
    {
        await using var lease = await TryAcquireAsync(target, kind, fetchId, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        return lease is null;
    }

    /// <summary>The run's claim, waiting up to <paramref name="wait"/> for another session's to end; null if it did not.</summary>
    private static async Task<RunLease?> TryAcquireAsync(NpgsqlDataSource target, RunLeaseKind kind, string fetchId, TimeSpan wait,
        CancellationToken cancellationToken)
    {
        var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (kind == RunLeaseKind.RowLock)
            {
                if (await LockRowAsync(connection, fetchId, wait, cancellationToken).ConfigureAwait(false))
                {
                    return new RunLease(connection, "ROLLBACK", null);
                }
            }
            else if (await LockAdvisoryAsync(connection, fetchId, wait, cancellationToken).ConfigureAwait(false))
            {
                return new RunLease(connection, $"SELECT pg_advisory_unlock({AdvisoryKey})", fetchId);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await connection.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// Whether the claim still stands: its connection answers (a server restart or a lost connection ends the session,
    /// and the claim with it) and, for a row claim, its transaction is not aborted.
    /// </summary>
    public async Task<bool> IsAliveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync(connection, "SELECT 1", null, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ExecuteAsync(connection, release, releaseParameter, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The connection is already gone (Npgsql says "not open" once it saw it break), and the claim with it.
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<bool> LockAdvisoryAsync(NpgsqlConnection connection, string fetchId, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            if (await TryAdvisoryLockAsync(connection, fetchId, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<bool> TryAdvisoryLockAsync(NpgsqlConnection connection, string fetchId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({AdvisoryKey})", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = fetchId });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// The CockroachDB claim, in order. The timeouts come first and in the same transaction: CockroachDB makes any
    /// write to a row wait for another session's lock on it, with no timeout unless lock_timeout is set
    /// (https://www.cockroachlabs.com/docs/stable/session-variables#lock-timeout, default 0). The claim is a write, not
    /// SELECT ... FOR UPDATE: a write intent is replicated through Raft
    /// (https://www.cockroachlabs.com/docs/stable/architecture/transaction-layer#write-intents), while a FOR UPDATE
    /// lock under SERIALIZABLE is unreplicated and dropped on a lease transfer, split or merge
    /// (https://www.cockroachlabs.com/docs/stable/known-limitations#select-for-update-limitations). The last statement
    /// takes the run id as $1.
    /// </summary>
    internal static IReadOnlyList<string> RowClaimStatements(TimeSpan wait) =>
    [
        "BEGIN",
        // 0 would mean no timeout at all: the shortest wait is a millisecond.
        $"SET LOCAL lock_timeout = '{Math.Max(1, (int)wait.TotalMilliseconds)}ms'",
        // A server-wide idle_in_transaction_session_timeout would end the claim while the load goes on.
        "SET LOCAL idle_in_transaction_session_timeout = 0",
        $"""INSERT INTO "{LoadStateStore.Schema}"."fetch_leases" (fetch_id) VALUES ($1) ON CONFLICT (fetch_id) DO UPDATE SET fetch_id = excluded.fetch_id""",
    ];

    private static async Task<bool> LockRowAsync(NpgsqlConnection connection, string fetchId, TimeSpan wait, CancellationToken cancellationToken)
    {
        var statements = RowClaimStatements(wait);
        foreach (var statement in statements.Take(statements.Count - 1))
        {
            await ExecuteAsync(connection, statement, null, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await ExecuteAsync(connection, statements[^1], fetchId, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PostgresException ex) when (IsHeldElsewhere(ex.SqlState))
        {
            return false;
        }
    }

    /// <summary>
    /// A lock wait that timed out (55P03, the code PostgreSQL gives and CockroachDB documents for NOWAIT,
    /// https://www.cockroachlabs.com/docs/stable/troubleshoot-lock-contention), or one CockroachDB ended by aborting
    /// the waiter (40001, https://www.cockroachlabs.com/docs/stable/select-for-update): either way another session
    /// holds the claim.
    /// </summary>
    internal static bool IsHeldElsewhere(string sqlState) =>
        sqlState is PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.SerializationFailure;

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, string? parameter, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (parameter is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>How a target holds a run's claim: the lock its server can hold for a session without a transaction ID, if any.</summary>
internal enum RunLeaseKind
{
    /// <summary>A session advisory lock (PostgreSQL).</summary>
    AdvisoryLock,

    /// <summary>A write to the run's row in an open transaction, where advisory locks are no-ops (CockroachDB).</summary>
    RowLock,
}
