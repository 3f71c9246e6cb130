using System.Globalization;
using System.Threading.Channels;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Load;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Serilog;
using static Molt.Engine.Endpoints.PgWire.PgWireSyntax;

namespace Molt.Engine.Endpoints.Postgres;

/// <summary>
/// One exported PostgreSQL snapshot: a REPEATABLE READ transaction (or a replication slot's exported snapshot) that
/// every reader connection adopts with SET TRANSACTION SNAPSHOT, so all tables and shards are read at one point.
/// </summary>
internal sealed class PostgresSnapshot : ISourceSnapshot
{

    private readonly IAsyncDisposable exporter;
    private readonly List<NpgsqlConnection> readers;
    private readonly Channel<NpgsqlConnection> idle;

    private PostgresSnapshot(IAsyncDisposable exporter, List<NpgsqlConnection> readers, SourcePosition position, string? visibility)
    {
        this.exporter = exporter;
        this.readers = readers;
        Position = position;
        Visibility = visibility;
        idle = Channel.CreateUnbounded<NpgsqlConnection>();
        foreach (var reader in readers)
        {
            idle.Writer.TryWrite(reader);
        }
    }

    public SourcePosition Position { get; }

    public string? Visibility { get; }

    public static async Task<PostgresSnapshot> OpenAsync(EndpointAddress address, NpgsqlDataSource dataSource, string? slotName, int readerCount,
        ILogger log, CancellationToken cancellationToken)
    {
        var (exporter, snapshotName, lsn, visibility) = slotName is null
            ? await ExportFromTransactionAsync(dataSource, cancellationToken).ConfigureAwait(false)
            : await ExportFromSlotAsync(address, slotName, cancellationToken).ConfigureAwait(false);
        var readers = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < Math.Max(readerCount, 1); i++)
            {
                var reader = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                readers.Add(reader);
                await ExecuteAsync(reader, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(reader, $"SET TRANSACTION SNAPSHOT {Literal(snapshotName)}", cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            foreach (var reader in readers)
            {
                await reader.DisposeAsync().ConfigureAwait(false);
            }

            await exporter.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        log.Information("Source snapshot {Snapshot} at LSN {Lsn} shared by {Readers} readers", snapshotName, lsn, readers.Count);
        return new PostgresSnapshot(exporter, readers, PostgresLsn.Parse(lsn), visibility);
    }

    /// <summary>
    /// An integer key is split by its bounds alone (two index lookups); any other key by walking its index in steps of
    /// <paramref name="rows"/> / <paramref name="count"/> rows, each step an index seek from the last bound, so the
    /// whole walk reads the key's index once (a window function numbering every row cost several times a full read).
    /// </summary>
    public Task<IReadOnlyList<KeyRange>> SplitAsync(TableModel table, int count, long rows, string? where, CancellationToken cancellationToken)
    {
        if (count <= 1 || !table.HasPrimaryKey)
        {
            return Task.FromResult<IReadOnlyList<KeyRange>>([KeyRange.All]);
        }

        var key = table.PrimaryKey[0];
        var filter = WhereClause.Of(null, null, where);
        if (table.Column(key).Type is { Family: ColumnTypeFamily.Integer, IsArray: false })
        {
            return OnIdleReaderAsync<IReadOnlyList<KeyRange>>(async connection =>
            {
                await using var command = new NpgsqlCommand($"SELECT min({Quote(key)})::bigint, max({Quote(key)})::bigint FROM {Quote(table.Name)}{filter}", connection);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                return reader.IsDBNull(0) ? [KeyRange.All] : KeyRanges.Split(key, reader.GetInt64(0), reader.GetInt64(1), count);
            }, cancellationToken);
        }

        var step = Math.Max(1, (rows + count - 1) / count);
        return OnIdleReaderAsync(connection => KeyRanges.WalkAsync(key, count, async previous =>
        {
            var after = WhereClause.Of(previous is null ? null : $"{Quote(key)} > {Bound(table, key, previous)}", null, where);
            await using var command = new NpgsqlCommand(
                $"SELECT {Quote(key)}::text FROM {Quote(table.Name)}{after} " +
                $"ORDER BY {Quote(key)} LIMIT 1 OFFSET {(previous is null ? step : step - 1)}", connection);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        }), cancellationToken);
    }

    public Task<long> CountRowsAsync(TableModel table, string? where, CancellationToken cancellationToken) =>
        OnIdleReaderAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT COUNT(*) FROM {Quote(table.Name)}{WhereClause.Of(null, null, where)}", connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }, cancellationToken);

    /// <summary>Runs one query on a reader of the snapshot, handing the reader back after it.</summary>
    private async Task<T> OnIdleReaderAsync<T>(Func<NpgsqlConnection, Task<T>> query, CancellationToken cancellationToken)
    {
        var connection = await idle.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await query(connection).ConfigureAwait(false);
        }
        finally
        {
            idle.Writer.TryWrite(connection);
        }
    }

    /// <summary>Binary COPY, relayed as it is; a table with a column the target takes only as text goes as CSV.</summary>
    public async Task<ShardData> ReadAsync(TablePlan plan, KeyRange range, string? where, CancellationToken cancellationToken)
    {
        if (plan.IsSentAsText)
        {
            return await ReadCsvAsync(plan, range, where, cancellationToken).ConfigureAwait(false);
        }

        var connection = await idle.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var select = SelectSql(plan, range, where);
        try
        {
            // A failed or abandoned read aborts the transaction; rolling back to this savepoint keeps the snapshot usable.
            await ExecuteAsync(connection, "SAVEPOINT molt_shard", cancellationToken).ConfigureAwait(false);
            var raw = await connection.BeginRawBinaryCopyAsync($"COPY ({select}) TO STDOUT (FORMAT binary)", cancellationToken).ConfigureAwait(false);
            var stream = new CopyOutStream(raw);
            return new BinaryCopyShard(stream, async () =>
            {
                if (!stream.Ended)
                {
                    // Disposing an unfinished COPY would read the rest of the table: cancel it on the server instead.
                    await CancelQuietlyAsync(raw).ConfigureAwait(false);
                }

                await DisposeQuietlyAsync(raw).ConfigureAwait(false);
                await ReleaseAsync(connection, stream.Ended).ConfigureAwait(false);
            });
        }
        catch
        {
            await ReleaseAsync(connection, completed: false).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>PostgreSQL writes the CSV itself; the shard's columns are already cast to the target's types.</summary>
    public async Task<CsvShard> ReadCsvAsync(TablePlan plan, KeyRange range, string? where, CancellationToken cancellationToken)
    {
        var connection = await idle.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, "SAVEPOINT molt_shard", cancellationToken).ConfigureAwait(false);
            var export = (NpgsqlCopyTextReader)await connection.BeginTextExportAsync(
                $"COPY ({SelectSql(plan, range, where)}) TO STDOUT (FORMAT csv, NULL {PgWireSyntax.Literal(CsvShard.Null)})", cancellationToken).ConfigureAwait(false);
            return new PostgresCsvShard(export, completed => ReleaseAsync(connection, completed));
        }
        catch
        {
            await ReleaseAsync(connection, completed: false).ConfigureAwait(false);
            throw;
        }
    }

    private async ValueTask ReleaseAsync(NpgsqlConnection connection, bool completed)
    {
        try
        {
            await ExecuteAsync(connection, completed ? "RELEASE SAVEPOINT molt_shard" : "ROLLBACK TO SAVEPOINT molt_shard", CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
            // The reader is broken (its connection dropped): later reads on it fail with their own error.
        }

        idle.Writer.TryWrite(connection);
    }

    /// <summary>
    /// A COPY that already ended with an error (a failed cast, a query cancelled by Ctrl+C) cannot be cancelled: that error
    /// is the one the shard reports, not the ObjectDisposedException cancelling it again would raise.
    /// </summary>
    private static async ValueTask CancelQuietlyAsync(NpgsqlRawCopyStream copy)
    {
        try
        {
            await copy.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static async ValueTask DisposeQuietlyAsync(NpgsqlRawCopyStream disposable)
    {
        try
        {
            await disposable.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException)
        {
            // A cancelled COPY ends with an error by design.
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var reader in readers)
        {
            await DisposeLostAsync(reader).ConfigureAwait(false);
        }

        await DisposeLostAsync(exporter).ConfigureAwait(false);
    }

    /// <summary>
    /// The snapshot's connections are only read from: one the source ended after the last shard was read (a restart,
    /// a cut) has nothing left to release, and a load whose shards all committed must not fail for it.
    /// </summary>
    private static async ValueTask DisposeLostAsync(IAsyncDisposable connection)
    {
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
        {
        }
    }

    internal static string SelectSql(TablePlan plan, KeyRange range, string? where)
    {
        var filter = WhereClause.Of(
            range.Lower is null ? null : $"{Quote(range.KeyColumn!)} >= {Bound(plan.Source, range.KeyColumn!, range.Lower)}",
            range.Upper is null ? null : $"{Quote(range.KeyColumn!)} < {Bound(plan.Source, range.KeyColumn!, range.Upper)}",
            where);

        // A column whose target type differs is cast on the source to the target's wire type (a type both sides know,
        // or the type-map override's), so every shard is still relayed as binary COPY without decoding a row here.
        var columns = string.Join(", ", plan.Columns.Select(c => c.Type.IsBinaryCompatible ? Quote(c.Source.Name) : $"CAST({Quote(c.Source.Name)} AS {CastType(c.Type.SourceCast ?? c.Type.WireType)})"));
        return $"SELECT {columns} FROM {Quote(plan.Source.Name)}{filter}";
    }

    // A created type's wire name is schema-qualified ("public.mood"): quoted part by part; built-in names are SQL as they are.
    private static string CastType(string wireType)
    {
        var array = wireType.EndsWith("[]", StringComparison.Ordinal) ? "[]" : "";
        var name = wireType[..^array.Length];
        return (name.Split('.') is [var schema, var type] ? $"{Quote(schema)}.{Quote(type)}" : name) + array;
    }

    /// <summary>
    /// A bound written into the SQL, as COPY takes no parameters: an integer as a number; any other as an untyped literal, which PostgreSQL reads as the key's own type
    /// (and compares in the key's collation, the order its parts were cut in).
    /// </summary>
    private static string Bound(TableModel table, string keyColumn, string value) =>
        table.Column(keyColumn).Type is { Family: ColumnTypeFamily.Integer, IsArray: false }
            ? long.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)
            : Literal(value);

    // The LSN read beside a plain snapshot is not exact (a transaction can be in the WAL and not yet visible), so the
    // snapshot's own transaction list goes with it: PgSnapshotVisibility decides from it what the rows hold.
    private static async Task<(IAsyncDisposable Exporter, string Snapshot, string Lsn, string? Visibility)> ExportFromTransactionAsync(NpgsqlDataSource dataSource,
        CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT pg_export_snapshot(), pg_current_wal_insert_lsn()::text, txid_current_snapshot()::text", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return (connection, reader.GetString(0), reader.GetString(1), reader.GetString(2));
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<(IAsyncDisposable Exporter, string Snapshot, string Lsn, string? Visibility)> ExportFromSlotAsync(EndpointAddress address, string slotName,
        CancellationToken cancellationToken)
    {
        // The exported snapshot lives as long as the replication connection stays idle after creating the slot.
        var replication = new LogicalReplicationConnection(PgWireConnections.Builder(address).ConnectionString);
        try
        {
            await replication.Open(cancellationToken).ConfigureAwait(false);
            var slot = await replication.CreatePgOutputReplicationSlot(slotName, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.Export,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            return (replication, slot.SnapshotName!, slot.ConsistentPoint.ToString(), null);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateObject)
        {
            await replication.DisposeAsync().ConfigureAwait(false);
            throw Replication.PostgresPublication.SlotExists(slotName);
        }
        catch
        {
            await replication.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Notes when the COPY stream was read to its end.</summary>
    private sealed class CopyOutStream(NpgsqlRawCopyStream inner) : Stream
    {
        public bool Ended { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            Ended |= read == 0;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
