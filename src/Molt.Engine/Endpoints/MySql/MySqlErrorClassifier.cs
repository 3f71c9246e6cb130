using MySqlConnector;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// MySQL's and MariaDB's errors (https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html): a
/// deadlock (1213) rolls the transaction back and a lock wait timeout (1205) the statement; a lost or gone connection
/// (2013, 2006) or a server that cannot be reached needs a new one; SQLSTATE classes 22 and 23 refuse a row.
/// </summary>
internal sealed class MySqlErrorClassifier : IErrorClassifier
{
    public static MySqlErrorClassifier Instance { get; } = new();

    public ErrorAction Classify(Exception exception) => exception switch
    {
        MySqlException { ErrorCode: MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout } => ErrorAction.Retry,
        MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } => ErrorAction.Reconnect,
        MySqlException my when (int)my.ErrorCode is 2006 or 2013 => ErrorAction.Reconnect,
        MySqlException { SqlState: { } state } when state.StartsWith("22", StringComparison.Ordinal) || state.StartsWith("23", StringComparison.Ordinal)
            => ErrorAction.RejectRow,
        _ => ErrorAction.Stop,
    };
}
