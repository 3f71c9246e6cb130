using Npgsql;

namespace Molt.Engine.State;

/// <summary>
/// A stream's state in the target's <c>_molt</c> schema (beside the load's, see <see cref="LoadStateStore"/>): the
/// checkpoint, written in the same target transaction as the changes it covers, so a crash leaves both or neither; the
/// stream's published status; and stop requests, which Stop-MoltReplication writes from any session. The SQL is the
/// common spelling of PostgreSQL and CockroachDB.
/// </summary>
internal sealed class ReplicationStateStore(NpgsqlDataSource target)
{
    private const string Schema = LoadStateStore.Schema;

    private static readonly string[] SchemaDdl =
    [
        $"CREATE SCHEMA IF NOT EXISTS \"{Schema}\"",
        $"""
        CREATE TABLE IF NOT EXISTS "{Schema}"."replication_checkpoints" (
            fetch_id TEXT PRIMARY KEY,
            position_notation TEXT NOT NULL,
            position TEXT NOT NULL,
            source_committed_at TIMESTAMPTZ NOT NULL,
            transactions BIGINT NOT NULL,
            inserts BIGINT NOT NULL,
            updates BIGINT NOT NULL,
            deletes BIGINT NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now())
        """,
        $"""
        CREATE TABLE IF NOT EXISTS "{Schema}"."replication_streams" (
            fetch_id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            slot_name TEXT,
            held_by TEXT,
            source_end_notation TEXT,
            source_end TEXT,
            stop_at_notation TEXT,
            stop_at TEXT,
            target_position_notation TEXT,
            target_position TEXT,
            lag_bytes BIGINT,
            lag_seconds DOUBLE PRECISION,
            rate DOUBLE PRECISION NOT NULL DEFAULT 0,
            error TEXT,
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            failback_slot TEXT)
        """,
        $"""
        CREATE TABLE IF NOT EXISTS "{Schema}"."replication_stops" (
            fetch_id TEXT PRIMARY KEY,
            immediately BOOL NOT NULL,
            position_notation TEXT,
            position TEXT,
            requested_at TIMESTAMPTZ NOT NULL DEFAULT now())
        """,
        // Added after the table was first released: a target created before keeps its rows and gains the column (readers cope without it).
        $"""ALTER TABLE "{Schema}"."replication_streams" ADD COLUMN IF NOT EXISTS failback_slot TEXT""",
    ];

    private const string CheckpointColumns =
        "fetch_id, position_notation, position, source_committed_at, transactions, inserts, updates, deletes, updated_at";

    private const string StreamColumns =
        "fetch_id, state, slot_name, held_by, source_end_notation, source_end, stop_at_notation, stop_at, target_position_notation, target_position, " +
        "lag_bytes, lag_seconds, rate, error, updated_at";

    public async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var statement in SchemaDdl)
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes a copy of a checkpoint kept elsewhere (failback's is on the original source), so that status readers of this
    /// database see its position and counts; never what a stream resumes from.
    /// </summary>
    public async Task WriteCheckpointCopyAsync(CheckpointRow checkpoint, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await WriteCheckpointAsync(connection, checkpoint, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the checkpoint on the connection and transaction that applied the changes it covers.</summary>
    public static async Task WriteCheckpointAsync(NpgsqlConnection connection, CheckpointRow checkpoint, CancellationToken cancellationToken)
    {
        await using var command = StateSql.Command(
            $"""
            INSERT INTO "{Schema}"."replication_checkpoints" ({CheckpointColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
            ON CONFLICT (fetch_id) DO UPDATE SET position_notation = excluded.position_notation, position = excluded.position,
                source_committed_at = excluded.source_committed_at, transactions = excluded.transactions, inserts = excluded.inserts,
                updates = excluded.updates, deletes = excluded.deletes, updated_at = excluded.updated_at
            """,
            checkpoint.FetchId, checkpoint.Notation, checkpoint.Position, checkpoint.SourceCommittedAt, checkpoint.Transactions, checkpoint.Inserts,
            checkpoint.Updates, checkpoint.Deletes);
        command.Connection = connection;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The stream's checkpoint, or null when it never applied anything (or <c>_molt</c> has no checkpoints yet).</summary>
    public async Task<CheckpointRow?> ReadCheckpointAsync(string fetchId, CancellationToken cancellationToken) =>
        (await ReadCheckpointsAsync(fetchId, cancellationToken).ConfigureAwait(false)) is [var checkpoint, ..] ? checkpoint : null;

    /// <summary>Every checkpoint (fetchId null) or one.</summary>
    public async Task<IReadOnlyList<CheckpointRow>> ReadCheckpointsAsync(string? fetchId, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (!await ExistsAsync(connection, "replication_checkpoints", cancellationToken).ConfigureAwait(false))
        {
            return [];
        }

        await using var command = StateSql.Command(
            $"""SELECT {CheckpointColumns} FROM "{Schema}"."replication_checkpoints" WHERE $1::text IS NULL OR fetch_id = $1 ORDER BY fetch_id""", fetchId);
        command.Connection = connection;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<CheckpointRow>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new CheckpointRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7))
            {
                UpdatedAt = reader.GetFieldValue<DateTimeOffset>(8),
            });
        }

        return rows;
    }

    public Task WriteStreamAsync(StreamRow stream, CancellationToken cancellationToken) => StateSql.ExecuteAsync(target, 
        $"""
        INSERT INTO "{Schema}"."replication_streams" ({StreamColumns}, failback_slot) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now(), $15)
        ON CONFLICT (fetch_id) DO UPDATE SET state = excluded.state, slot_name = coalesce(excluded.slot_name, "replication_streams".slot_name),
            held_by = excluded.held_by, source_end_notation = excluded.source_end_notation, source_end = excluded.source_end,
            stop_at_notation = excluded.stop_at_notation, stop_at = excluded.stop_at, target_position_notation = excluded.target_position_notation,
            target_position = excluded.target_position, lag_bytes = excluded.lag_bytes, lag_seconds = excluded.lag_seconds, rate = excluded.rate,
            error = excluded.error, updated_at = excluded.updated_at,
            failback_slot = coalesce(excluded.failback_slot, "replication_streams".failback_slot)
        """,
        cancellationToken, stream.FetchId, stream.State, stream.Slot, stream.HeldBy, stream.SourceEndNotation, stream.SourceEnd, stream.StopAtNotation,
        stream.StopAt, stream.TargetPositionNotation, stream.TargetPosition, stream.LagBytes, stream.LagSeconds, stream.Rate, stream.Error, stream.FailbackSlot);

    /// <summary>Every stream (fetchId null) or one.</summary>
    public async Task<IReadOnlyList<StreamRow>> ReadStreamsAsync(string? fetchId, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (!await ExistsAsync(connection, "replication_streams", cancellationToken).ConfigureAwait(false))
        {
            return [];
        }

        // A target whose _molt predates failback has no failback_slot column until a stream next runs there.
        var failbackSlot = await HasColumnAsync(connection, "replication_streams", "failback_slot", cancellationToken).ConfigureAwait(false) ? "failback_slot" : "NULL::text";
        await using var command = StateSql.Command(
            $"""SELECT {StreamColumns}, {failbackSlot} FROM "{Schema}"."replication_streams" WHERE $1::text IS NULL OR fetch_id = $1 ORDER BY fetch_id""", fetchId);
        command.Connection = connection;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<StreamRow>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new StreamRow(reader.GetString(0), reader.GetString(1))
            {
                Slot = StateSql.NullableString(reader, 2),
                HeldBy = StateSql.NullableString(reader, 3),
                SourceEndNotation = StateSql.NullableString(reader, 4),
                SourceEnd = StateSql.NullableString(reader, 5),
                StopAtNotation = StateSql.NullableString(reader, 6),
                StopAt = StateSql.NullableString(reader, 7),
                TargetPositionNotation = StateSql.NullableString(reader, 8),
                TargetPosition = StateSql.NullableString(reader, 9),
                LagBytes = reader.IsDBNull(10) ? null : reader.GetInt64(10),
                LagSeconds = reader.IsDBNull(11) ? null : reader.GetDouble(11),
                Rate = reader.GetDouble(12),
                Error = StateSql.NullableString(reader, 13),
                UpdatedAt = reader.GetFieldValue<DateTimeOffset>(14),
                FailbackSlot = StateSql.NullableString(reader, 15),
            });
        }

        return rows;
    }

    /// <summary>Records a stop request, replacing an earlier one of the stream.</summary>
    public Task RequestStopAsync(StopRow stop, CancellationToken cancellationToken) => StateSql.ExecuteAsync(target, 
        $"""
        INSERT INTO "{Schema}"."replication_stops" (fetch_id, immediately, position_notation, position, requested_at) VALUES ($1, $2, $3, $4, now())
        ON CONFLICT (fetch_id) DO UPDATE SET immediately = excluded.immediately, position_notation = excluded.position_notation,
            position = excluded.position, requested_at = excluded.requested_at
        """,
        cancellationToken, stop.FetchId, stop.Immediately, stop.Notation, stop.Position);

    public async Task<StopRow?> ReadStopAsync(string fetchId, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = StateSql.Command(
            $"""SELECT fetch_id, immediately, position_notation, position, requested_at FROM "{Schema}"."replication_stops" WHERE fetch_id = $1""", fetchId);
        command.Connection = connection;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new StopRow(reader.GetString(0), reader.GetBoolean(1), StateSql.NullableString(reader, 2), StateSql.NullableString(reader, 3), reader.GetFieldValue<DateTimeOffset>(4))
            : null;
    }

    public Task ClearStopAsync(string fetchId, CancellationToken cancellationToken) =>
        StateSql.ExecuteAsync(target, $"""DELETE FROM "{Schema}"."replication_stops" WHERE fetch_id = $1""", cancellationToken, fetchId);

    /// <summary>Marks a stream ended after its slot was dropped: nobody holds it and nothing keeps source log for it.</summary>
    public Task MarkRemovedAsync(string fetchId, CancellationToken cancellationToken) => StateSql.ExecuteAsync(target, 
        $"""UPDATE "{Schema}"."replication_streams" SET state = 'Stopped', slot_name = NULL, failback_slot = NULL, held_by = NULL, error = 'removed: slot and publication dropped', updated_at = now() WHERE fetch_id = $1""",
        cancellationToken, fetchId);

    private static async Task<bool> HasColumnAsync(NpgsqlConnection connection, string table, string column, CancellationToken cancellationToken)
    {
        await using var command = StateSql.Command(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = $3", Schema, table, column);
        command.Connection = connection;
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        // Reading never creates _molt: status is read from targets that may never have streamed.
        await using var command = new NpgsqlCommand($"SELECT to_regclass('\"{Schema}\".\"{table}\"') IS NOT NULL", connection);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
