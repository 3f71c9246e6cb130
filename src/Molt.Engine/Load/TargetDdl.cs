using Molt.Engine.State;
using Npgsql;
using Serilog;
using Serilog.Events;

namespace Molt.Engine.Load;

/// <summary>
/// The one path a load's DDL takes on the target: logged, run on the caller's connection and, where the caller goes on
/// after a failure, recorded in <c>_molt.fetch_exceptions</c> against the table it was for.
/// </summary>
internal sealed class TargetDdl(LoadStateStore state, ILogger log)
{
    /// <summary>Runs <paramref name="sql"/>; what the server refuses is thrown.</summary>
    public async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        log.Debug("Target: {Sql}", sql);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="sql"/> for <paramref name="table"/>; returns null when it ran (or <paramref name="alreadyDone"/>
    /// says the server's refusal means an earlier attempt did it), else the recorded message "<paramref name="what"/>: why".
    /// A cancelled run's error is thrown, not recorded.
    /// </summary>
    public async Task<string?> TryExecuteAsync(NpgsqlConnection connection, string fetchId, string table, string sql, string what, LogEventLevel level,
        Func<string, bool>? alreadyDone, CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (PostgresException ex) when (!cancellationToken.IsCancellationRequested && alreadyDone?.Invoke(ex.SqlState) == true)
        {
            log.Debug("{Table:l}: {What:l} was done by an earlier attempt of the run", table, what);
            return null;
        }
        catch (PostgresException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var message = $"{what}: {ex.MessageText}";
            await RecordAsync(fetchId, table, level, ex.SqlState, message).ConfigureAwait(false);
            return message;
        }
    }

    /// <summary>Logs and records a table's post-load failure; never cut off by Ctrl+C, so the run's record says what went wrong.</summary>
    public async Task RecordAsync(string fetchId, string table, LogEventLevel level, string? sqlState, string message)
    {
        log.Write(level, "{Table:l}: {Message:l}", table, message);
        await state.RecordExceptionAsync(new LoadFailureRecord(fetchId, table, null, LoadStage.PostLoad, sqlState, message, null), CancellationToken.None)
            .ConfigureAwait(false);
    }
}
