using System.Globalization;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Molt.Engine.Logging;

public enum MoltLogLevel
{
    Debug,
    Information,
    Warning,
    Error,
}

/// <summary>One engine log event, as the host (the PowerShell cmdlets) receives it.</summary>
public sealed record MoltLogEvent(DateTimeOffset Timestamp, MoltLogLevel Level, string Message, string? Exception);

/// <summary>
/// The engine's Serilog pipeline for one operation: events go to the host's callback and, when asked, to a file
/// of compact JSON lines (see <see cref="LogFileSink"/>: opened here, so an unwritable path throws
/// LogPathNotWritable before any work; a later write failure reaches the callback as one warning). Hosts see only
/// this type, never Serilog's.
/// </summary>
public sealed class MoltLogSession : IDisposable
{
    private readonly Logger logger;

    public MoltLogSession(Action<MoltLogEvent>? sink = null, string? filePath = null, MoltLogLevel minimumLevel = MoltLogLevel.Information)
    {
        var configuration = new LoggerConfiguration().MinimumLevel.Is(ToSerilog(minimumLevel)).Enrich.FromLogContext();
        if (sink is not null)
        {
            configuration = configuration.WriteTo.Sink(new CallbackSink(sink));
        }

        if (!string.IsNullOrEmpty(filePath))
        {
            configuration = configuration.WriteTo.Sink(LogFileSink.Open(filePath,
                failure => sink?.Invoke(new MoltLogEvent(DateTimeOffset.Now, MoltLogLevel.Warning, failure, null))));
        }

        logger = configuration.CreateLogger();
    }

    /// <summary>A session that writes nowhere, for callers that do not log.</summary>
    public static MoltLogSession None() => new();

    public ILogger Logger => logger;

    public void Dispose() => logger.Dispose();

    private static LogEventLevel ToSerilog(MoltLogLevel level) => level switch
    {
        MoltLogLevel.Debug => LogEventLevel.Debug,
        MoltLogLevel.Information => LogEventLevel.Information,
        MoltLogLevel.Warning => LogEventLevel.Warning,
        _ => LogEventLevel.Error,
    };

    private sealed class CallbackSink(Action<MoltLogEvent> sink) : ILogEventSink
    {
        public void Emit(LogEvent logEvent)
        {
            var level = logEvent.Level switch
            {
                LogEventLevel.Verbose or LogEventLevel.Debug => MoltLogLevel.Debug,
                LogEventLevel.Information => MoltLogLevel.Information,
                LogEventLevel.Warning => MoltLogLevel.Warning,
                _ => MoltLogLevel.Error,
            };
            sink(new MoltLogEvent(logEvent.Timestamp, level, logEvent.RenderMessage(CultureInfo.InvariantCulture), logEvent.Exception?.Message));
        }
    }
}
