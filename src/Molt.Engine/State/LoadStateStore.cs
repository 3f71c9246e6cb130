using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.State;

/// <summary>
/// The load's state in the target's <c>_molt</c> schema: one row per run, one per table shard, one per exception, one
/// per post-load statement run.
/// The SQL is the common spelling of PostgreSQL and CockroachDB. A shard is marked done inside the transaction that
/// loaded it, so a crash leaves either its rows and "done", or neither.
/// </summary>
internal sealed class LoadStateStore(NpgsqlDataSource target)
{
    public const string Schema = "_molt";

    private static readonly string[] SchemaDdl =
    [
        $"CREATE SCHEMA IF NOT EXISTS \"{Schema}\"",
        $"""
        CREATE TABLE IF NOT EXISTS "{Schema}"."fetch_runs" (
            fetch_id TEXT PRIMARY KEY,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            source TEXT NOT NULL,
            source_kind TEXT NOT NULL,
            status TEXT NOT NULL,
            snapshot_position TEXT,
            gtid_set TEXT,
            table_handling TEXT NOT NULL)
        """,
        $"""
        CREATE TABLE IF NOT EXISTS "{Schema}"."fetch_shards" (
            fetch_id TEXT NOT NULL,
            source_table TEXT NOT NULL,
            target_table TEXT NOT NULL,
            shard INT NOT NULL,
            key_column TEXT,
            lower_bound TEXT,
            upper_bound TEXT,
            status TEXT NOT NULL,
            rows_loaded BIGINT NOT NULL DEFAULT 0,
            bytes_loaded BIGINT NOT NULL DEFAULT 0,
            error TEXT,
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (fetch_id, source_table, shard))
        """,
        $"""
        CREATE TABLE IF NOT EXISTS "{Schema}"."fetch_exceptions" (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            fetch_id TEXT NOT NULL,
            source_table TEXT,
            shard INT,
            stage TEXT NOT NULL,
            sql_state TEXT,
            message TEXT NOT NULL,
            row_key TEXT,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now())
        """,
        $"""CREATE TABLE IF NOT EXISTS "{Schema}"."fetch_leases" (fetch_id TEXT PRIMARY KEY)""",
        // Added after the first release: a target whose _molt predates it gets the column here.
        $"""ALTER TABLE "{Schema}"."fetch_runs" ADD COLUMN IF NOT EXISTS selection TEXT""",
        $"""
        CREATE TABLE IF NOT EXISTS "{Schema}"."fetch_post_load" (
            fetch_id TEXT NOT NULL,
            source_table TEXT NOT NULL,
            description TEXT NOT NULL,
            status TEXT NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (fetch_id, source_table, description))
        """,
        // Added after the first release: what a shard's rows hold when its snapshot is not the run's (ISourceSnapshot.Visibility).
        $"""ALTER TABLE "{Schema}"."fetch_shards" ADD COLUMN IF NOT EXISTS snapshot TEXT""",
    ];

    public async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var statement in SchemaDdl)
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task CreateRunAsync(LoadRun run, CancellationToken cancellationToken) => StateSql.ExecuteAsync(target, 
        $"""INSERT INTO "{Schema}"."fetch_runs" (fetch_id, started_at, source, source_kind, status, snapshot_position, gtid_set, table_handling, selection) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        cancellationToken, run.FetchId, run.StartedAt, run.Source, run.SourceKind, run.Status, run.SnapshotPosition, run.GtidSet, run.TableHandling,
        run.Selection?.ToJson());

    public Task SetRunStatusAsync(string fetchId, string status, bool finished, CancellationToken cancellationToken) => StateSql.ExecuteAsync(target, 
        $"""UPDATE "{Schema}"."fetch_runs" SET status = $2, finished_at = CASE WHEN $3 THEN now() END WHERE fetch_id = $1""",
        cancellationToken, fetchId, status, finished);

    public async Task<LoadRun?> FindRunAsync(string fetchId, CancellationToken cancellationToken) =>
        (await ReadRunsAsync("WHERE fetch_id = $1", cancellationToken, fetchId).ConfigureAwait(false)) is [var run, ..] ? run : null;

    public Task<IReadOnlyList<LoadRun>> ListRunsAsync(CancellationToken cancellationToken) =>
        ReadRunsAsync("ORDER BY started_at DESC", cancellationToken);

    /// <summary>Records a table's shards as pending (once per run: a resumed run reads them back with <see cref="ReadShardsAsync"/>).</summary>
    public async Task<IReadOnlyList<ShardState>> RecordShardsAsync(string fetchId, string sourceTable, string targetTable, IReadOnlyList<KeyRange> ranges,
        CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        for (var i = 0; i < ranges.Count; i++)
        {
            batch.BatchCommands.Add(StateSql.BatchCommand(
                $"""INSERT INTO "{Schema}"."fetch_shards" (fetch_id, source_table, target_table, shard, key_column, lower_bound, upper_bound, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')""",
                fetchId, sourceTable, targetTable, i, ranges[i].KeyColumn, ranges[i].Lower, ranges[i].Upper));
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return await ReadShardsAsync(fetchId, sourceTable, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ShardState>> ReadShardsAsync(string fetchId, string? sourceTable, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = StateSql.Command(
            $"""SELECT source_table, target_table, shard, key_column, lower_bound, upper_bound, status, rows_loaded, bytes_loaded, error FROM "{Schema}"."fetch_shards" WHERE fetch_id = $1 AND ($2::text IS NULL OR source_table = $2) ORDER BY source_table, shard""",
            fetchId, sourceTable);
        command.Connection = connection;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var shards = new List<ShardState>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            shards.Add(new ShardState(reader.GetString(0), reader.GetString(1), reader.GetInt32(2),
                new KeyRange(StateSql.NullableString(reader, 3), StateSql.NullableString(reader, 4), StateSql.NullableString(reader, 5)),
                reader.GetString(6), reader.GetInt64(7), reader.GetInt64(8), StateSql.NullableString(reader, 9)));
        }

        return shards;
    }

    /// <summary>Marks a shard done on the connection and transaction that loaded its rows.</summary>
    public static async Task MarkShardDoneAsync(NpgsqlConnection connection, string fetchId, string sourceTable, int shard, long rows, long bytes,
        string? snapshot, CancellationToken cancellationToken)
    {
        await using var command = StateSql.Command(
            $"""UPDATE "{Schema}"."fetch_shards" SET status = 'done', rows_loaded = $4, bytes_loaded = $5, snapshot = $6, error = NULL, updated_at = now() WHERE fetch_id = $1 AND source_table = $2 AND shard = $3""",
            fetchId, sourceTable, shard, rows, bytes, snapshot);
        command.Connection = connection;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The tables whose every shard was loaded from one snapshot other than the run's (a resumed load's), with that
    /// snapshot's <see cref="Load.ISourceSnapshot.Visibility"/>: their rows already hold changes the stream, which starts at
    /// the run's position, delivers again.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> ReadTableSnapshotsAsync(string fetchId, CancellationToken cancellationToken)
    {
        var snapshots = new Dictionary<string, string>();
        await using var command = StateSql.Command(
            $"""
            SELECT source_table, min(snapshot) FROM "{Schema}"."fetch_shards" WHERE fetch_id = $1
            GROUP BY source_table HAVING count(snapshot) = count(*) AND min(snapshot) = max(snapshot)
            """, fetchId);
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        command.Connection = connection;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            snapshots[reader.GetString(0)] = reader.GetString(1);
        }

        return snapshots;
    }

    /// <summary>
    /// Never over a "done": a COMMIT that failed as ambiguous (40003, or the connection lost) may have committed the rows
    /// and their mark (https://www.cockroachlabs.com/docs/stable/transaction-retry-error-reference), and copying them again
    /// on -Resume would conflict or duplicate.
    /// </summary>
    public Task MarkShardFailedAsync(string fetchId, string sourceTable, int shard, string status, string error, CancellationToken cancellationToken) => StateSql.ExecuteAsync(target, 
        $"""UPDATE "{Schema}"."fetch_shards" SET status = $4, error = $5, updated_at = now() WHERE fetch_id = $1 AND source_table = $2 AND shard = $3 AND status <> 'done'""",
        cancellationToken, fetchId, sourceTable, shard, status, error);

    public Task RecordExceptionAsync(LoadFailureRecord exception, CancellationToken cancellationToken) => StateSql.ExecuteAsync(target, 
        $"""INSERT INTO "{Schema}"."fetch_exceptions" (fetch_id, source_table, shard, stage, sql_state, message, row_key) VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        cancellationToken, exception.FetchId, exception.SourceTable, exception.Shard, exception.Stage, exception.SqlState, exception.Message, exception.RowKey);

    public Task SetPostLoadStatusAsync(string fetchId, string sourceTable, string description, string status, CancellationToken cancellationToken) => StateSql.ExecuteAsync(target, 
        $"""INSERT INTO "{Schema}"."fetch_post_load" (fetch_id, source_table, description, status) VALUES ($1, $2, $3, $4) ON CONFLICT (fetch_id, source_table, description) DO UPDATE SET status = excluded.status, updated_at = now()""",
        cancellationToken, fetchId, sourceTable, description, status);

    /// <summary>The run's post-load statements by source table and description, with how far each got.</summary>
    public async Task<Dictionary<(string SourceTable, string Description), string>> ReadPostLoadAsync(string fetchId, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = StateSql.Command($"""SELECT source_table, description, status FROM "{Schema}"."fetch_post_load" WHERE fetch_id = $1""", fetchId);
        command.Connection = connection;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var statements = new Dictionary<(string, string), string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            statements[(reader.GetString(0), reader.GetString(1))] = reader.GetString(2);
        }

        return statements;
    }

    public async Task<IReadOnlyList<LoadFailureRecord>> ReadExceptionsAsync(string fetchId, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = StateSql.Command(
            $"""SELECT fetch_id, source_table, shard, stage, sql_state, message, row_key FROM "{Schema}"."fetch_exceptions" WHERE fetch_id = $1 ORDER BY created_at""",
            fetchId);
        command.Connection = connection;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var exceptions = new List<LoadFailureRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            exceptions.Add(new LoadFailureRecord(reader.GetString(0), StateSql.NullableString(reader, 1), reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.GetString(3),
                StateSql.NullableString(reader, 4), reader.GetString(5), StateSql.NullableString(reader, 6)));
        }

        return exceptions;
    }

    private async Task<IReadOnlyList<LoadRun>> ReadRunsAsync(string clause, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Read without creating anything: a _molt from before the selection column was added is read as it is.
        await using var exists = new NpgsqlCommand(
            $"SELECT to_regclass('\"{Schema}\".\"fetch_runs\"') IS NOT NULL, EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = '{Schema}' AND table_name = 'fetch_runs' AND column_name = 'selection')",
            connection);
        bool hasRuns, hasSelection;
        await using (var found = await exists.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await found.ReadAsync(cancellationToken).ConfigureAwait(false);
            (hasRuns, hasSelection) = (found.GetBoolean(0), found.GetBoolean(1));
        }

        if (!hasRuns)
        {
            return [];
        }

        await using var command = StateSql.Command(
            $"""SELECT fetch_id, started_at, finished_at, source, source_kind, status, snapshot_position, gtid_set, table_handling, {(hasSelection ? "selection" : "NULL::text")} FROM "{Schema}"."fetch_runs" {clause}""",
            parameters);
        command.Connection = connection;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var runs = new List<LoadRun>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            runs.Add(new LoadRun(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                StateSql.NullableString(reader, 6), StateSql.NullableString(reader, 7), reader.GetString(8))
            {
                FinishedAt = reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                Selection = StateSql.NullableString(reader, 9) is { } selection ? LoadSelection.FromJson(reader.GetString(0), selection) : null,
            });
        }

        return runs;
    }
}
