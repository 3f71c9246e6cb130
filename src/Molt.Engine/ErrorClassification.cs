namespace Molt.Engine;

/// <summary>What a flow does about a driver's error; each endpoint decides for its own driver (<see cref="IErrorClassifier"/>).</summary>
public enum ErrorAction
{
    /// <summary>The server aborted the transaction (a conflict, a deadlock): nothing of it committed, so it can run again.</summary>
    Retry,

    /// <summary>
    /// The connection was lost: connect again, but a COMMIT in flight may have committed, so only work whose commit
    /// records its own progress (a checkpoint in the same transaction) can be resumed from what the target says.
    /// </summary>
    Reconnect,

    /// <summary>The server refused the row's values (a constraint, a value out of range): the row is rejected, others go on.</summary>
    RejectRow,

    /// <summary>Anything else: the work stops with the error.</summary>
    Stop,
}

/// <summary>Classifies the errors of one database's driver, so flows never read SQLSTATEs or driver types themselves.</summary>
internal interface IErrorClassifier
{
    ErrorAction Classify(Exception exception);
}
