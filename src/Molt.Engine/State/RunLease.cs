using Molt.Engine.Endpoints;
using Npgsql;

namespace Molt.Engine.State;

/// <summary>
/// A load run's claim on its state, so that two sessions never load the same run's shards at once (a -Resume typed
/// while the run still goes on elsewhere would copy the same rows twice). The claim lives in a connection of its own and
/// ends with it, whether the load finishes or its process dies. PostgreSQL holds it as a session advisory lock, which
/// takes no transaction ID: an open transaction with one would hold back vacuum and make every logical replication slot
/// created on that server wait for the whole load. CockroachDB holds it as a row lock in an open transaction
/// (https://www.cockroachlabs.com/docs/stable/select-for-update), the claim it documents.
/// </summary>
public sealed class RunLease : IAsyncDisposable
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

    public static async Task<RunLease> AcquireAsync(NpgsqlDataSource target, EndpointKind targetKind, string fetchId, CancellationToken cancellationToken) =>
        await TryAcquireAsync(target, targetKind, fetchId, Wait, cancellationToken).ConfigureAwait(false)
        ?? throw new MoltException(MoltErrorKind.InUse, "FetchRunActive",
            $"Load run '{fetchId}' is still running in another session: two sessions loading one run would copy the same rows twice.",
            "Wait for it to finish, or stop it (Ctrl+C) and run -Resume again. If its process is gone but the target still holds its session " +
            "(its machine lost the network), end that session (PostgreSQL: pg_terminate_backend with the pid pg_locks shows holding the " +
            "advisory lock; CockroachDB: CANCEL SESSION with the id SHOW SESSIONS gives for the open transaction on _molt.fetch_leases).")
        {
            Target = fetchId,
        };

    /// <summary>Whether some session holds the run's claim now, that is, whether the run is being loaded.</summary>
    public static async Task<bool> IsHeldAsync(NpgsqlDataSource target, EndpointKind targetKind, string fetchId, CancellationToken cancellationToken)
    {
        await using var lease = await TryAcquireAsync(target, targetKind, fetchId, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        return lease is null;
    }

    /// <summary>The run's claim, waiting up to <paramref name="wait"/> for another session's to end; null if it did not.</summary>
    private static async Task<RunLease?> TryAcquireAsync(NpgsqlDataSource target, EndpointKind targetKind, string fetchId, TimeSpan wait,
        CancellationToken cancellationToken)
    {
        var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (targetKind == EndpointKind.CockroachDb)
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

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ExecuteAsync(connection, release, releaseParameter, CancellationToken.None).ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
            // The connection is already gone, and the claim with it.
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

    private static async Task<bool> LockRowAsync(NpgsqlConnection connection, string fetchId, TimeSpan wait, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, $"""INSERT INTO "{LoadStateStore.Schema}"."fetch_leases" (fetch_id) VALUES ($1) ON CONFLICT (fetch_id) DO NOTHING""",
            fetchId, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "BEGIN", null, cancellationToken).ConfigureAwait(false);
        // 0 would mean no timeout at all: the shortest wait is a millisecond.
        await ExecuteAsync(connection, $"SET LOCAL lock_timeout = '{Math.Max(1, (int)wait.TotalMilliseconds)}ms'", null, cancellationToken).ConfigureAwait(false);
        // A server-wide idle_in_transaction_session_timeout would end the claim while the load goes on.
        await ExecuteAsync(connection, "SET LOCAL idle_in_transaction_session_timeout = 0", null, cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, $"""SELECT fetch_id FROM "{LoadStateStore.Schema}"."fetch_leases" WHERE fetch_id = $1 FOR UPDATE""",
                fetchId, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            return false;
        }
    }

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
