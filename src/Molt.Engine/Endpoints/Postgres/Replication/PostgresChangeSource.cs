using Molt.Engine.Replication;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Schema;
using Npgsql;
using Npgsql.Replication;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// A PostgreSQL source's committed changes, from one logical slot (pgoutput) and one publication. The slot is created
/// with the load's exported snapshot (<c>PostgresSnapshot</c>, Start-MoltBulkLoad -ReplicationSlot); the publication by
/// <see cref="PostgresPublication.EnsureAsync"/>, which <see cref="StartAsync"/> calls too, so a slot made by a load alone
/// gets its publication when replication first starts.
/// </summary>
internal sealed class PostgresChangeSource(EndpointAddress address, string slotName, string publicationName) : IChangeSource
{
    /// <summary>The output settings of the session that decodes changes: values arrive as <c>SELECT col::text</c> gives them under these.</summary>
    public static IReadOnlyList<string> OutputSettings { get; } =
        ["DateStyle=ISO", "IntervalStyle=postgres", "TimeZone=UTC", "extra_float_digits=3", "bytea_output=hex", "lc_monetary=C"];

    private const int EndQueryTimeoutSeconds = 30;

    private readonly SemaphoreSlim endLock = new(1, 1);
    private NpgsqlConnection? endConnection;

    public string SlotName => slotName;

    public string PublicationName => publicationName;

    public Task<IChangeStream> StartAsync(SourcePosition from, IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken) =>
        StartAsync(from, plans.Select(p => p.Source).ToList(), cancellationToken,
            plans.Where(p => p.LoadedSnapshot is not null).ToDictionary(p => p.Source.Name, p => PgSnapshotVisibility.Parse(p.LoadedSnapshot!)));

    /// <summary>
    /// Checks the slot, the publication (creating it when missing) and every table's replica identity, then opens the
    /// replication connection; the stream starts reading when it is first enumerated.
    /// </summary>
    /// <exception cref="MoltException">The slot is missing, busy or unusable; a table cannot be identified; the publication differs.</exception>
    /// <exception cref="TransientSourceException">The source could not be reached.</exception>
    public async Task<IChangeStream> StartAsync(SourcePosition from, IReadOnlyList<TableModel> tables, CancellationToken cancellationToken,
        IReadOnlyDictionary<TableName, PgSnapshotVisibility>? loaded = null)
    {
        var start = from as PostgresLsn ?? throw new ArgumentException($"A PostgreSQL source starts from a postgres-lsn position, not {from.Notation}.", nameof(from));
        var catalog = await OpenAsync(cancellationToken).ConfigureAwait(false);
        LogicalReplicationConnection? replication = null;
        try
        {
            await RequireSlotAsync(catalog, cancellationToken).ConfigureAwait(false);
            await EndStaleReaderAsync(catalog, cancellationToken).ConfigureAwait(false);
            await PostgresPublication.EnsureAsync(catalog, publicationName, tables, cancellationToken).ConfigureAwait(false);
            replication = new LogicalReplicationConnection(ReplicationConnectionString());
            await replication.Open(cancellationToken).ConfigureAwait(false);
            return new PostgresChangeStream(replication, catalog, slotName, publicationName, start, tables, loaded ?? new Dictionary<TableName, PgSnapshotVisibility>());
        }
        catch (Exception ex)
        {
            if (replication is not null)
            {
                await replication.DisposeAsync().ConfigureAwait(false);
            }

            await catalog.DisposeAsync().ConfigureAwait(false);
            if (ChangeStreamErrors.Translate(ex, slotName, publicationName, cancellationToken) is { } translated)
            {
                throw translated;
            }

            throw;
        }
    }

    /// <summary>
    /// Where a change committed now would be: the WAL insert position (a commit of synchronous_commit = off is there before
    /// it is written, and draining must reach it); on a standby, the last WAL replayed.
    /// </summary>
    public async Task<SourcePosition> ReadCurrentEndAsync(CancellationToken cancellationToken)
    {
        await endLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            endConnection ??= await OpenAsync(cancellationToken).ConfigureAwait(false);
            // Bounded: the loop waits for this between changes, so a source that went silent with the connection open
            // (a stalled network) would otherwise hang the stream, long after the replication connection noticed.
            await using var command = new NpgsqlCommand(
                "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text", endConnection)
            {
                CommandTimeout = EndQueryTimeoutSeconds,
            };
            return PostgresLsn.Parse((string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException)
        {
            // A broken connection is opened again on the next call.
            await endConnection!.DisposeAsync().ConfigureAwait(false);
            endConnection = null;
            throw ChangeStreamErrors.Translate(ex, slotName, publicationName, cancellationToken) ?? ex;
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

    /// <summary>
    /// pgoutput writes values with the walsender session's output settings: fixed here to unambiguous forms any pgwire
    /// target parses the same way (ISO dates, UTC offsets, shortest exact floats, hex bytea, money in the C locale).
    /// </summary>
    private string ReplicationConnectionString()
    {
        var builder = PgWireConnections.Builder(address);
        builder.ApplicationName = ReaderName;
        builder.Options = string.Join(' ', new[] { builder.Options }.Where(o => !string.IsNullOrWhiteSpace(o)).Concat(OutputSettings.Select(s => $"-c {s}")));
        return builder.ConnectionString;
    }

    /// <summary>The application name of the connection that reads the slot, by which a later start knows its own earlier reader.</summary>
    private string ReaderName => $"molt stream {slotName}";

    /// <summary>
    /// A connection this stream lost without the source noticing (a NAT or load balancer that dropped it, a network gone
    /// silent) keeps its walsender, and so the slot, until wal_sender_timeout passes: START_REPLICATION would be refused
    /// as "slot active" and the stream fail for good. The stream's claim on the target means no other session reads this
    /// slot as this stream, so a reader of the slot under this stream's name is that lost connection: it is ended, and the
    /// start tried again. A reader under any other name is left alone (START_REPLICATION then names it).
    /// </summary>
    private async Task EndStaleReaderAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var find = new NpgsqlCommand(
            "SELECT s.active_pid FROM pg_replication_slots s JOIN pg_stat_activity a ON a.pid = s.active_pid WHERE s.slot_name = $1 AND a.application_name = $2",
            connection)
        {
            Parameters = { new NpgsqlParameter { Value = slotName }, new NpgsqlParameter { Value = ReaderName } },
        };
        if (await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not int pid)
        {
            return;
        }

        await using var end = new NpgsqlCommand("SELECT pg_terminate_backend($1)", connection) { Parameters = { new NpgsqlParameter { Value = pid } } };
        try
        {
            await end.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new TransientSourceException(
                $"The replication slot '{slotName}' is still read by this stream's lost connection (pid {pid}), which this user may not end; the source frees it " +
                "once wal_sender_timeout passes.", ex);
        }

        throw new TransientSourceException(
            $"The replication slot '{slotName}' was still read by this stream's lost connection (pid {pid}), which the source had not noticed was gone; " +
            "that connection was ended.", new IOException("A stale walsender held the slot."));
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await PgWireConnections.OpenAsync(address, "molt replication", cancellationToken).ConfigureAwait(false);
        }
        catch (MoltException ex) when (ex.Kind == MoltErrorKind.ConnectionFailed)
        {
            throw new TransientSourceException(ex.Message, ex);
        }
    }

    private async Task RequireSlotAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT plugin, database, coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = $1", connection)
        {
            Parameters = { new NpgsqlParameter { Value = slotName } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw ChangeStreamErrors.MissingSlot(slotName);
        }

        var (plugin, database, walStatus) = (reader.IsDBNull(0) ? "" : reader.GetString(0), reader.IsDBNull(1) ? "" : reader.GetString(1), reader.GetString(2));
        if (plugin != "pgoutput" || database != connection.Database)
        {
            throw new MoltException(MoltErrorKind.InvalidState, "ReplicationSlotMismatch",
                $"The replication slot '{slotName}' is not a pgoutput slot of database '{connection.Database}' (it is {(plugin.Length == 0 ? "physical" : plugin)}" +
                $"{(database.Length == 0 ? "" : $" on '{database}'")}).",
                "Name the slot Molt created for this replication (-SlotName).") { Target = slotName };
        }

        if (walStatus == "lost")
        {
            throw new MoltException(MoltErrorKind.InvalidState, "ReplicationSlotUnusable",
                $"The replication slot '{slotName}' lost WAL it still needed (wal_status = lost): changes since the checkpoint are gone.",
                "Remove the replication (Remove-MoltReplication) and start it again with a new load; raise max_slot_wal_keep_size to keep it from happening.")
            { Target = slotName };
        }
    }
}
