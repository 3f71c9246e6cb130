namespace Molt.MySqlBinlog;

/// <summary>A failure of the binlog client, with a stable <see cref="ErrorId"/> and, where one exists, a remedy.</summary>
public class BinlogException : Exception
{
    public BinlogException(string errorId, string message, string? remedy = null, Exception? innerException = null)
        : base(remedy is null ? message : $"{message} {remedy}", innerException)
    {
        ErrorId = errorId;
        Remedy = remedy;
    }

    public string ErrorId { get; }

    public string? Remedy { get; }
}

/// <summary>An ERR packet from the server, with its error code and SQL state.</summary>
public sealed class BinlogServerException : BinlogException
{
    public BinlogServerException(int serverErrorCode, string sqlState, string serverMessage, string? context = null, string? remedy = null)
        : base(BinlogErrorIds.ServerError, $"{(context is null ? "" : context + ": ")}server error {serverErrorCode} ({sqlState}): {serverMessage}", remedy)
    {
        ServerErrorCode = serverErrorCode;
        SqlState = sqlState;
        ServerMessage = serverMessage;
    }

    public int ServerErrorCode { get; }

    public string SqlState { get; }

    public string ServerMessage { get; }
}

/// <summary>The stable error ids of <see cref="BinlogException"/>.</summary>
public static class BinlogErrorIds
{
    public const string ServerError = "BinlogServerError";
    public const string ConnectionLost = "BinlogConnectionLost";
    public const string ConnectionTimedOut = "BinlogConnectionTimedOut";
    public const string ProtocolViolation = "BinlogProtocolViolation";
    public const string AuthenticationFailed = "BinlogAuthenticationFailed";
    public const string UnsupportedAuthentication = "BinlogUnsupportedAuthentication";
    public const string TlsUnavailable = "BinlogTlsUnavailable";
    public const string PositionPurged = "BinlogPositionPurged";
    public const string ChecksumMismatch = "BinlogChecksumMismatch";
    public const string UnsupportedEvent = "BinlogUnsupportedEvent";
    public const string UnknownTable = "BinlogUnknownTable";
    public const string UnsupportedColumn = "BinlogUnsupportedColumn";
    public const string InvalidGtid = "BinlogInvalidGtid";
    public const string StreamEnded = "BinlogStreamEnded";
}
