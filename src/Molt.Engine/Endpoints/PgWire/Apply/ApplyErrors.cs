using System.Net.Sockets;
using Molt.Engine.Replication;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>What a failed apply statement means for the loop: apply the batch again, or stop with the reason.</summary>
internal static class ApplyErrors
{
    /// <summary>
    /// Retried: serialization failures and deadlocks (40001, 40P01; routine on CockroachDB,
    /// https://www.cockroachlabs.com/docs/stable/transaction-retry-error-reference), a statement whose result CockroachDB
    /// could not confirm (40003), the server shutting down or not yet accepting connections (57P01-57P03), and every
    /// connection exception (class 08).
    /// </summary>
    public static bool IsTransient(string sqlState) =>
        sqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or "40003"
            or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
        || sqlState.StartsWith("08", StringComparison.Ordinal);

    /// <summary>The exception to throw for <paramref name="error"/>, raised while doing <paramref name="what"/> (e.g. "upserting 12 rows into public.t").</summary>
    public static Exception Classify(Exception error, string what, string? table) => error switch
    {
        PostgresException pg when IsTransient(pg.SqlState) => new TransientApplyException($"The target aborted {what}: {pg.MessageText} (SQLSTATE {pg.SqlState}).", error),
        PostgresException pg => new MoltException(MoltErrorKind.DataRejected, "ApplyFailed",
            $"The target refused {what}: {pg.MessageText} (SQLSTATE {pg.SqlState}). Nothing of the batch was committed; the checkpoint is where it was.",
            "Make the target table accept the source's rows again (a constraint or column the source does not have, a row changed on the target), then resume.", error)
        {
            Target = table,
        },
        NpgsqlException or IOException or SocketException or TimeoutException =>
            new TransientApplyException($"The target connection failed while {what}: {error.Message}", error),
        _ => error,
    };
}
