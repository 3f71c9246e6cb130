using System.Net.Sockets;
using Molt.Engine.Replication;
using MySqlConnector;

namespace Molt.Engine.Endpoints.MySql.Apply;

/// <summary>
/// What a failed failback statement means for the loop, as <see cref="MySqlErrorClassifier"/> classifies it: a deadlock
/// (1213) or lock wait timeout (1205) rolls the batch back and it is applied again, as after a lost connection (2006,
/// 2013, a killed one - which the driver reports as error 0 over the stream that ended, or over the socket reset by a server
/// killed with SIGKILL -, a server that cannot be reached; a lost COMMIT is settled by the checkpoint it carries);
/// anything else stops the stream with the reason, the checkpoint where it was.
/// </summary>
internal static class MySqlApplyErrors
{
    /// <summary>MariaDB's ER_CONNECTION_KILLED and MySQL's ER_CLIENT_INTERACTION_TIMEOUT: the server ended the session.</summary>
    private static readonly HashSet<int> SessionEnded = [1927, 4031];

    /// <summary>The exception to throw for <paramref name="error"/>, raised while doing <paramref name="what"/> (e.g. "upserting 12 rows into shop.orders").</summary>
    public static Exception Classify(Exception error, string what, string? table) => error switch
    {
        MoltException or OperationCanceledException => error,
        MySqlException my when MySqlErrorClassifier.Instance.Classify(my) == ErrorAction.Retry =>
            new TransientApplyException($"The original source aborted {what}: {my.Message} (error {(int)my.ErrorCode}).", error),
        MySqlException my when MySqlErrorClassifier.Instance.Classify(my) == ErrorAction.Reconnect || SessionEnded.Contains((int)my.ErrorCode)
            || my.ErrorCode == MySqlErrorCode.CommandTimeoutExpired || my.InnerException is IOException or SocketException =>
            new TransientApplyException($"The original source's connection failed while {what}: {my.Message}", error),
        MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry } my => new MoltException(MoltErrorKind.DataRejected, "FailbackApplyFailed",
            $"The original source refused {what}: {my.Message} (error {(int)my.ErrorCode}, SQLSTATE {my.SqlState}). Nothing of the batch was committed; the checkpoint is where it was.",
            "A unique key of the original holds the value for another row, where the target's does not (a case-insensitive or PAD SPACE collation, a " +
            "prefix index, a constraint deferred or missing on the target, a row changed on the original). Make the original's key compare as the target's " +
            "(a binary collation on the column) or drop it, or delete the other row on both, then start failback again: it goes on from the checkpoint.", error)
        {
            Target = table,
        },
        MySqlException my => new MoltException(MoltErrorKind.DataRejected, "FailbackApplyFailed",
            $"The original source refused {what}: {my.Message} (error {(int)my.ErrorCode}, SQLSTATE {my.SqlState}). Nothing of the batch was committed; the checkpoint is where it was.",
            "Make the original table accept the target's rows again (a constraint, trigger or column the target does not have, a row changed on the original), then start failback again.", error)
        {
            Target = table,
        },
        IOException or InvalidOperationException => new TransientApplyException($"The original source's connection failed while {what}: {error.Message}", error),
        _ => error,
    };
}
