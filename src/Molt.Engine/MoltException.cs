namespace Molt.Engine;

/// <summary>What went wrong, in terms a caller can map onto its own error categories.</summary>
public enum MoltErrorKind
{
    InvalidArgument,
    ConnectionFailed,
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    SchemaMismatch,
    UnsupportedType,
    DataRejected,
    InvalidState,

    /// <summary>Something another session holds right now (a load run being loaded elsewhere).</summary>
    InUse,
    OperationStopped,
}

/// <summary>
/// An error Molt explains itself: a message a DBA can act on, a stable id for scripts, and what to do about it.
/// Messages never carry passwords.
/// </summary>
public class MoltException : Exception
{
    public MoltException(MoltErrorKind kind, string errorId, string message, string? remedy = null, Exception? inner = null)
        : base(remedy is null ? message : $"{message} {remedy}", inner)
    {
        Kind = kind;
        ErrorId = errorId;
        Remedy = remedy;
    }

    public MoltErrorKind Kind { get; }

    /// <summary>A stable identifier such as <c>ConnectionFailed</c>, used as the PowerShell error id.</summary>
    public string ErrorId { get; }

    public string? Remedy { get; }

    /// <summary>The object the error is about (a table name, an endpoint), for the error record's target.</summary>
    public string? Target { get; init; }
}
