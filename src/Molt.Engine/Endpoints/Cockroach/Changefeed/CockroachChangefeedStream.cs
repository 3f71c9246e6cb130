using System.Runtime.CompilerServices;
using Molt.Engine.Replication;
using Npgsql;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>
/// One sinkless changefeed: a query that never ends by itself, whose rows are parsed, windowed and yielded as source
/// transactions. The query runs on its own connection, as the docs ask ("applications should explicitly create dedicated
/// connections to consume changefeed data": https://www.cockroachlabs.com/docs/stable/changefeed-for). It "can only be
/// canceled by closing the underlying connection or issuing a CANCEL QUERY statement" (same page): cancelling the
/// enumeration makes Npgsql send a cancel request and, when no answer comes within its Cancellation Timeout (2 s by
/// default, https://www.npgsql.org/doc/connection-string-parameters.html), break the connection, which ends the feed too.
/// </summary>
internal sealed class CockroachChangefeedStream : IChangeStream
{
    private readonly NpgsqlConnection feed;
    private readonly string statement;
    private readonly ChangefeedMessageParser parser;
    private readonly ChangefeedWindow window;
    private CockroachHlc known;
    private volatile bool idle = true;
    private int reading;

    internal CockroachChangefeedStream(NpgsqlConnection feed, string statement, ChangefeedMessageParser parser, ChangefeedWindow window)
    {
        this.feed = feed;
        this.statement = statement;
        this.parser = parser;
        this.window = window;
        known = window.Closed;
    }

    /// <summary>The latest resolved timestamp: nothing at or below it is still to come.</summary>
    public SourcePosition? KnownEnd => Volatile.Read(ref known);

    /// <summary>True while no window is being handed out: everything up to <see cref="KnownEnd"/> has then been delivered.</summary>
    public bool IsIdle => idle;

    public async IAsyncEnumerable<Change> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref reading, 1) == 1)
        {
            throw new InvalidOperationException("A change stream is read once, by one consumer.");
        }

        await using var command = new NpgsqlCommand(statement, feed) { CommandTimeout = 0 };
        NpgsqlDataReader reader;
        try
        {
            reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(ex, cancellationToken) is { } translated)
        {
            idle = false;
            throw translated;
        }

        await using (reader.ConfigureAwait(false))
        {
            while (true)
            {
                ChangefeedMessage message;
                try
                {
                    if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        throw new TransientSourceException("The CockroachDB changefeed ended.", new IOException("CREATE CHANGEFEED returned its last row."));
                    }

                    message = parser.Parse(reader.IsDBNull(0) ? null : reader.GetString(0), Bytes(reader, 1), Bytes(reader, 2));
                }
                catch (Exception ex) when (Translate(ex, cancellationToken) is { } translated)
                {
                    idle = false;
                    throw translated;
                }

                if (message is ChangefeedRow row)
                {
                    window.Add(row);
                    continue;
                }

                var resolved = ((ChangefeedResolved)message).Timestamp;
                var changes = window.Close(resolved);
                if (changes.Count > 0)
                {
                    idle = false;
                    foreach (var change in changes)
                    {
                        yield return change;
                    }
                }

                // Set once the consumer asks for more after the window's Commit: up to the resolved timestamp all is delivered.
                Volatile.Write(ref known, window.Closed);
                idle = true;
            }
        }
    }

    /// <summary>A sinkless changefeed keeps nothing on the server for Molt to release: the checkpoint on the original database is the resume point.</summary>
    public ValueTask ConfirmAsync(SourcePosition position, CancellationToken cancellationToken) =>
        position is CockroachHlc ? ValueTask.CompletedTask
            : throw new ArgumentException($"A CockroachDB changefeed confirms cockroach-hlc positions, not {position.Notation}.", nameof(position));

    public async ValueTask DisposeAsync()
    {
        window.Dispose();
        await feed.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The key and value columns are BYTES; read as text should a server send them so.</summary>
    private static byte[]? Bytes(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetValue(ordinal) switch
    {
        byte[] bytes => bytes,
        string text => System.Text.Encoding.UTF8.GetBytes(text),
        var other => throw new FormatException($"The changefeed's column {ordinal} is {other.GetType().Name}, not BYTES."),
    };

    private Exception? Translate(Exception ex, CancellationToken cancellationToken)
    {
        if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        return ex switch
        {
            PostgresException pg when ChangefeedErrors.IsGcThresholdError(pg.MessageText) => ChangefeedErrors.GcThresholdReported(window.Closed, pg.MessageText, pg),
            PostgresException { SqlState: "40001" or "57P01" or "57P02" or "57P03" or "08006" } pg =>
                new TransientSourceException($"The CockroachDB changefeed stopped ({pg.SqlState}: {pg.MessageText}).", pg),
            PostgresException pg => new MoltException(MoltErrorKind.InvalidState, "ChangefeedFailed",
                $"CockroachDB stopped the failback changefeed: {pg.MessageText}",
                "Look at the table named in the message (a schema change, IMPORT or TRUNCATE on a watched table ends a changefeed), fix it, then resume failback.", pg),
            NpgsqlException or IOException or TimeoutException => new TransientSourceException($"The connection of the CockroachDB changefeed failed: {ex.Message}", ex),
            FormatException or System.Text.Json.JsonException => new MoltException(MoltErrorKind.InvalidState, "ChangefeedMessageUnreadable",
                $"A changefeed message could not be read: {ex.Message}",
                "Report it with the message; failback stopped before that window, and its checkpoint is unchanged.", ex),
            _ => null,
        };
    }
}
