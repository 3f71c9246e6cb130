using System.Management.Automation;
using Molt.Engine;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// The error record of an engine error: its stable id, a category from its kind, and its remedy as the recommended
/// action. Its target is the one the error names (the side that failed and its address without the password), else the
/// one given; never the raw -Source / -Target text, which may hold a password.
/// </summary>
internal static class EngineErrorRecords
{
    /// <param name="stopping">Whether the cmdlet is being stopped: a cancellation is then the stop, not a failure.</param>
    public static ErrorRecord Of(Exception exception, object? target, bool stopping)
    {
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        if (exception is MoltException molt)
        {
            var record = new ErrorRecord(molt, molt.ErrorId, Categorize(molt.Kind), molt.Target ?? target);
            if (molt.Remedy is not null)
            {
                record.ErrorDetails = new ErrorDetails(molt.Message) { RecommendedAction = molt.Remedy };
            }

            return record;
        }

        if (exception is OperationCanceledException && stopping)
        {
            return new ErrorRecord(exception, "OperationStopped", ErrorCategory.OperationStopped, target);
        }

        return new ErrorRecord(exception, "UnexpectedError", ErrorCategory.NotSpecified, target);
    }

    private static ErrorCategory Categorize(MoltErrorKind kind) => kind switch
    {
        MoltErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        MoltErrorKind.ConnectionFailed => ErrorCategory.ConnectionError,
        MoltErrorKind.AuthenticationFailed => ErrorCategory.AuthenticationError,
        MoltErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        MoltErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        MoltErrorKind.SchemaMismatch => ErrorCategory.MetadataError,
        MoltErrorKind.UnsupportedType => ErrorCategory.InvalidType,
        MoltErrorKind.DataRejected => ErrorCategory.InvalidData,
        MoltErrorKind.InvalidState => ErrorCategory.InvalidOperation,
        MoltErrorKind.InUse => ErrorCategory.ResourceBusy,
        MoltErrorKind.OperationStopped => ErrorCategory.OperationStopped,
        _ => ErrorCategory.NotSpecified,
    };
}
