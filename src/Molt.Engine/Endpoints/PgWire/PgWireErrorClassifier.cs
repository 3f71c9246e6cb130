using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// PostgreSQL's and CockroachDB's errors by SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html):
/// 40001 serialization failure (CockroachDB asks clients to retry it:
/// https://www.cockroachlabs.com/docs/stable/transaction-retry-error-reference) and 40P01 deadlock abort the
/// transaction; 57P01 (administrator shutdown), class 08 and a broken socket lose the connection; classes 22 (data
/// exception) and 23 (integrity constraint violation) refuse a row.
/// </summary>
public sealed class PgWireErrorClassifier : IErrorClassifier
{
    public const string SerializationFailure = "40001";

    public const string DeadlockDetected = "40P01";

    public static PgWireErrorClassifier Instance { get; } = new();

    public ErrorAction Classify(Exception exception) => exception switch
    {
        PostgresException { SqlState: SerializationFailure or DeadlockDetected } => ErrorAction.Retry,
        PostgresException { SqlState: "57P01" } => ErrorAction.Reconnect,
        PostgresException pg when pg.SqlState.StartsWith("08", StringComparison.Ordinal) => ErrorAction.Reconnect,
        PostgresException pg when pg.SqlState.StartsWith("22", StringComparison.Ordinal) || pg.SqlState.StartsWith("23", StringComparison.Ordinal)
            => ErrorAction.RejectRow,
        NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException } => ErrorAction.Reconnect,
        _ => ErrorAction.Stop,
    };
}
