using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>
/// A CockroachDB target's committed changes for failback, read with a sinkless changefeed over an ordinary SQL connection
/// (no inbound endpoint, no certificates). The tables watched are the plans' targets; changes are reported under the
/// plans' source tables and column names, where failback writes them. Each window closed by a resolved timestamp is one
/// source transaction whose position is that timestamp, so the checkpoint is the changefeed's <c>cursor</c> on restart.
/// <para>
/// Not run against a real cluster: CockroachDB cannot run where Molt is tested. The statement, the message parsing, the
/// value conversion, the windowing and the GC window check are unit-tested on output written as CockroachDB's
/// documentation shows it; this class only wires them over Npgsql, and runs for real with a PostgreSQL server standing
/// in for the changefeed's SQL (<see cref="ChangefeedSql"/>) in the failback session tests.
/// </para>
/// </summary>
internal sealed class CockroachChangefeedSource(EndpointAddress address, ChangefeedSql? sql = null, ChangefeedOptions? options = null,
    ChangefeedWindowOptions? windowOptions = null) : IChangeSource
{
    private readonly ChangefeedSql sql = sql ?? ChangefeedSql.Cockroach;
    private readonly SemaphoreSlim endLock = new(1, 1);
    private NpgsqlConnection? endConnection;

    /// <summary>Checks the cursor against every table's GC window, then opens the changefeed's own connection; the feed starts when the stream is first read.</summary>
    /// <exception cref="MoltException">ChangefeedCursorPastGcWindow: the target no longer keeps the versions since <paramref name="from"/>.</exception>
    /// <exception cref="TransientSourceException">The target could not be reached.</exception>
    public async Task<IChangeStream> StartAsync(SourcePosition from, IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken)
    {
        var cursor = from as CockroachHlc ?? throw new ArgumentException($"A CockroachDB changefeed starts from a cockroach-hlc position, not {from.Notation}.", nameof(from));
        var feed = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var tables = plans.Select(p => new ChangefeedTable(feed.Database, p)).ToList();
            var watched = tables.Select(t => t.Watched).ToList();
            // Before the feed: CockroachDB refuses a cursor past the GC threshold too, but only once the feed runs, and in its own words.
            await ChangefeedGcWindow.CheckAsync(feed, sql, cursor, watched, cancellationToken).ConfigureAwait(false);
            var statement = sql.Feed(feed.Database, watched, cursor, options ?? new ChangefeedOptions());
            return new CockroachChangefeedStream(feed, statement, new ChangefeedMessageParser(tables), new ChangefeedWindow(cursor, windowOptions ?? new ChangefeedWindowOptions()));
        }
        catch
        {
            await feed.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The cluster's HLC now: a change committed now lies at or after it.</summary>
    public async Task<SourcePosition> ReadCurrentEndAsync(CancellationToken cancellationToken)
    {
        await endLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            endConnection ??= await OpenAsync(cancellationToken).ConfigureAwait(false);
            return CockroachHlc.Parse(await PgWirePrerequisites.ScalarAsync<string>(endConnection, sql.Now, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException)
        {
            // A broken connection is opened again on the next call.
            await endConnection!.DisposeAsync().ConfigureAwait(false);
            endConnection = null;
            throw new TransientSourceException($"Could not read the CockroachDB target's current timestamp: {ex.Message}", ex);
        }
        finally
        {
            endLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (endConnection is not null)
        {
            await endConnection.DisposeAsync().ConfigureAwait(false);
        }

        endLock.Dispose();
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await PgWireConnections.OpenAsync(address, "molt failback", cancellationToken).ConfigureAwait(false);
        }
        catch (MoltException ex) when (ex.Kind == MoltErrorKind.ConnectionFailed)
        {
            throw new TransientSourceException(ex.Message, ex);
        }
    }
}
