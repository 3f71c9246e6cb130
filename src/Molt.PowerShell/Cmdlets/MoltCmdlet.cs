using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Remoting.Internal;
using Molt.Engine;
using Molt.Engine.Logging;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// What every Molt cmdlet shares: engine work runs asynchronously while this (the pipeline) thread writes its
/// objects, progress and log events; Ctrl+C cancels the work; engine errors become proper error records.
/// </summary>
public abstract class MoltCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private BlockingCollection<Action>? pipelineActions;

    /// <summary>Also write the engine's log, as compact JSON lines, to this file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LogPath { get; set; }

    protected CancellationToken StopToken => stopping.Token;

    protected override void StopProcessing() => stopping.Cancel();

    /// <summary>PowerShell disposes a cmdlet when its pipeline ends.</summary>
    public void Dispose()
    {
        stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Opens the engine log for this invocation: Information and up feed -Verbose, Debug feeds -Debug.</summary>
    protected MoltLogSession OpenLog()
    {
        var path = LogPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(LogPath);
        return new MoltLogSession(OnLogEvent, path, WantsDebug() ? MoltLogLevel.Debug : MoltLogLevel.Information);
    }

    /// <summary>
    /// Runs engine work to completion, pumping what it posts onto the pipeline thread meanwhile. An engine error
    /// is rethrown as it was raised; callers turn it into an error record. When the pipeline ends first (Ctrl+C stops
    /// it, or an error record meets -ErrorAction Stop), the engine is cancelled and waited for before the exception goes
    /// on, so that no connection, snapshot, COPY or lock outlives the cmdlet and the run is recorded as interrupted.
    /// </summary>
    protected void RunEngine(Func<CancellationToken, Task> work)
    {
        using var actions = new BlockingCollection<Action>();
        pipelineActions = actions;
        var task = Task.Run(async () =>
        {
            try
            {
                await work(StopToken).ConfigureAwait(false);
            }
            finally
            {
                actions.CompleteAdding();
            }
        });
        try
        {
            foreach (var action in actions.GetConsumingEnumerable())
            {
                action();
            }
        }
        catch (Exception ex) when (IsPipelineEnding(ex))
        {
            stopping.Cancel();
            DrainUntilStopped(actions, task);
            throw;
        }
        finally
        {
            pipelineActions = null;
        }

        task.GetAwaiter().GetResult();
    }

    /// <summary>Ctrl+C, or an error record turned terminating by an action preference of Stop.</summary>
    protected static bool IsPipelineEnding(Exception exception) =>
        exception is PipelineStoppedException or ActionPreferenceStopException;

    /// <summary>
    /// Writes a warning even while the pipeline is stopping (Ctrl+C), when WriteWarning may no longer be called: the
    /// user must still learn how to continue the interrupted work.
    /// </summary>
    protected void WriteWarningEvenWhenStopping(string text)
    {
        try
        {
            WriteWithoutInquiring(PSStreamObjectType.Warning, text);
        }
        catch (Exception ex) when (IsPipelineEnding(ex))
        {
            Host.UI.WriteWarningLine(text);
        }
    }

    /// <summary>Keeps running what the cancelled engine posts (its last warnings among them) until it has stopped.</summary>
    private static void DrainUntilStopped(BlockingCollection<Action> actions, Task work)
    {
        foreach (var action in actions.GetConsumingEnumerable())
        {
            try
            {
                action();
            }
            catch (Exception ex) when (IsPipelineEnding(ex))
            {
                // Records can no longer be written; what matters now is that the engine finishes stopping.
            }
        }

        try
        {
            work.GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // The engine was cancelled on purpose: the exception that ended the pipeline is the one to report.
        }
    }

    /// <summary>Runs an action on the pipeline thread (where Write* is allowed), from engine callbacks on any thread.</summary>
    protected void OnPipeline(Action action)
    {
        var actions = pipelineActions;
        if (actions is null || actions.IsAddingCompleted)
        {
            action();
            return;
        }

        try
        {
            actions.Add(action);
        }
        catch (InvalidOperationException)
        {
            // The work ended between the check and the add: nothing will pump the queue any more.
        }
    }

    /// <summary>
    /// The error record of an engine error. Its target is the one the error names (the side that failed and its
    /// address without the password), else <paramref name="target"/>; never the raw -Source / -Target text, which
    /// may hold a password.
    /// </summary>
    protected ErrorRecord ToErrorRecord(Exception exception, object? target = null)
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

        if (exception is OperationCanceledException && StopToken.IsCancellationRequested)
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

    private void OnLogEvent(MoltLogEvent logEvent)
    {
        var text = logEvent.Exception is null ? logEvent.Message : $"{logEvent.Message} ({logEvent.Exception})";
        switch (logEvent.Level)
        {
            case MoltLogLevel.Debug:
                OnPipeline(() => WriteWithoutInquiring(PSStreamObjectType.Debug, text));
                break;
            case MoltLogLevel.Warning:
                OnPipeline(() => WriteWarningEvenWhenStopping(text));
                break;
            default:
                OnPipeline(() => WriteWithoutInquiring(PSStreamObjectType.Verbose, text));
                break;
        }
    }

    /// <summary>
    /// Writes an engine line (debug, verbose or warning) as a job's received streams are written: Inquire counts as
    /// Continue. -Debug on a compiled cmdlet sets all three preferences to Inquire, and a prompt per engine line would
    /// make a -Debug run impossible to leave unattended (and abort it under -NonInteractive).
    /// </summary>
    private void WriteWithoutInquiring(PSStreamObjectType stream, string text) =>
        new PSStreamObject(stream, text).WriteStreamObject(this, overrideInquire: true);

    /// <summary>-Debug:$false is off; without -Debug, any $DebugPreference that shows debug lines turns them on.</summary>
    private bool WantsDebug() =>
        MyInvocation.BoundParameters.TryGetValue("Debug", out var debug)
            ? LanguagePrimitives.IsTrue(debug)
            : LanguagePrimitives.TryConvertTo<ActionPreference>(GetVariableValue("DebugPreference"), out var preference)
              && preference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
}
