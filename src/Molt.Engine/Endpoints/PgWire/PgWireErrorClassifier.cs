using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// PostgreSQL's and CockroachDB's errors by SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html):
/// 40001 serialization failure (CockroachDB asks clients to retry it:
/// https://www.cockroachlabs.com/docs/stable/transaction-retry-error-reference) and 40P01 deadlock abort the
/// transaction; 57P01 (administrator shutdown), class 08 and a broken socket lose the connection; classes 22 (data
/// exception) and 23 (integrity constraint violation) refuse a row; 53100 (disk full) stops the work, to go on once the
/// target has room again.
/// </summary>
internal sealed class PgWireErrorClassifier : IErrorClassifier
{
    public const string SerializationFailure = "40001";

    public const string DeadlockDetected = "40P01";

    /// <summary>disk_full: the target had no room for a write; the statement's transaction is rolled back whole.</summary>
    public const string DiskFull = "53100";

    public static PgWireErrorClassifier Instance { get; } = new();

    public ErrorAction Classify(Exception exception) => exception switch
    {
        PostgresException { SqlState: SerializationFailure or DeadlockDetected } => ErrorAction.Retry,
        // 57P02/57P03: the server crashed or is starting; 40003: CockroachDB could not tell whether a statement (or a
        // COMMIT) took effect, so like a lost connection only a checkpointed transaction can be resumed from the target.
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "40003" } => ErrorAction.Reconnect,
        PostgresException pg when pg.SqlState.StartsWith("08", StringComparison.Ordinal) => ErrorAction.Reconnect,
        PostgresException pg when pg.SqlState.StartsWith("22", StringComparison.Ordinal) || pg.SqlState.StartsWith("23", StringComparison.Ordinal)
            => ErrorAction.RejectRow,
        NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException or TimeoutException } => ErrorAction.Reconnect,
        _ => ErrorAction.Stop,
    };
}
