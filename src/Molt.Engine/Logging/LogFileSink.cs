using Serilog;
using Serilog.Configuration;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Molt.Engine.Logging;

/// <summary>
/// The -LogPath file, one rendered compact JSON object per line. It is opened when the session starts, so a path that
/// cannot be written is refused before any work; a write that fails later (a full disk) is reported once and ends the
/// file, never the operation (Serilog would only note it in its self-log).
/// </summary>
internal sealed class LogFileSink : ILogEventSink, IDisposable
{
    private readonly ILogEventSink file;
    private readonly string path;
    private readonly Action<string> reportFailure;
    private int failed;

    private LogFileSink(ILogEventSink file, string path, Action<string> reportFailure)
    {
        this.file = file;
        this.path = path;
        this.reportFailure = reportFailure;
    }

    public static LogFileSink Open(string path, Action<string> reportFailure)
    {
        if (Directory.Exists(path))
        {
            throw NotWritable(path, "it is a folder", MoltErrorKind.InvalidArgument);
        }

        // Serilog would create a missing folder: a mistyped path should be an error, not a new folder tree.
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is null || !Directory.Exists(folder))
        {
            throw NotWritable(path, $"the folder '{folder}' does not exist", MoltErrorKind.InvalidArgument);
        }

        try
        {
            // Serilog's file sink only notes a file it cannot open in its self-log: opening it here first makes that an error.
            using (new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
            }
        }
        catch (UnauthorizedAccessException ex)
        {
            throw NotWritable(path, ex.Message, MoltErrorKind.PermissionDenied);
        }
        catch (IOException ex)
        {
            throw NotWritable(path, ex.Message, MoltErrorKind.InvalidArgument);
        }

        var file = LoggerSinkConfiguration.CreateSink(to => to.File(new RenderedCompactJsonFormatter(), path, shared: true));
        return new LogFileSink(file, path, reportFailure);
    }

    public void Emit(LogEvent logEvent)
    {
        if (Volatile.Read(ref failed) != 0)
        {
            return;
        }

        try
        {
            file.Emit(logEvent);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (Interlocked.Exchange(ref failed, 1) == 0)
            {
                reportFailure($"Writing the log file '{path}' failed ({ex.Message}); the log ends here, the operation goes on.");
            }
        }
    }

    public void Dispose()
    {
        try
        {
            (file as IDisposable)?.Dispose();
        }
        catch (IOException)
        {
            // A failed write was already reported; closing the file adds nothing to say.
        }
    }

    private static MoltException NotWritable(string path, string reason, MoltErrorKind kind) =>
        new(kind, "LogPathNotWritable", $"Cannot write the log file '{path}': {reason}.",
            "Give -LogPath a file in an existing folder that you can write to.") { Target = path };
}
