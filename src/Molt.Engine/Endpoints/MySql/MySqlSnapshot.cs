using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Molt.Engine.Load;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using MySqlConnector;
using Serilog;
using static Molt.Engine.Endpoints.MySql.MySqlSyntax;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// One point in time of a MySQL/MariaDB server shared by every reader while the source stays writable: under a
/// global read lock held for milliseconds, each reader starts a consistent-snapshot transaction and the binlog
/// position and GTID set of that moment are read; then the lock is released.
/// </summary>
internal sealed partial class MySqlSnapshot : ISourceSnapshot
{
    // ER_SPECIFIC_ACCESS_DENIED_ERROR: the user lacks a privilege the statement needs (RELOAD for the lock).
    private const int AccessDenied = 1227;

    private readonly List<MySqlConnection> readers;
    private readonly Channel<MySqlConnection> idle = Channel.CreateUnbounded<MySqlConnection>();
    private readonly ZeroDateHandling zeroDates;

    private MySqlSnapshot(List<MySqlConnection> readers, SourcePosition position, ZeroDateHandling zeroDates)
    {
        this.readers = readers;
        this.zeroDates = zeroDates;
        Position = position;
        foreach (var reader in readers)
        {
            idle.Writer.TryWrite(reader);
        }
    }

    public SourcePosition Position { get; }

    public static async Task<MySqlSnapshot> OpenAsync(EndpointAddress address, int readerCount, ZeroDateHandling zeroDates, ILogger log,
        CancellationToken cancellationToken)
    {
        var readers = new List<MySqlConnection>();
        try
        {
            await using var control = await MySqlConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
            var locked = await TryLockAsync(control, log, cancellationToken).ConfigureAwait(false);
            // Without the lock only one reader can be trusted to see the position read beside it.
            for (var i = 0; i < (locked ? Math.Max(readerCount, 1) : 1); i++)
            {
                var reader = await MySqlConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
                readers.Add(reader);
                // Shard bounds are string literals with escaped backslashes, which NO_BACKSLASH_ESCAPES would read as two.
                await ExecuteAsync(reader, "SET SESSION time_zone = '+00:00', SESSION net_write_timeout = 3600, SESSION net_read_timeout = 3600, " +
                    "SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')",
                    cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(reader, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(reader, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", cancellationToken).ConfigureAwait(false);
            }

            var position = await ReadPositionAsync(locked ? control : readers[0], locked, cancellationToken).ConfigureAwait(false);
            if (locked)
            {
                await ExecuteAsync(control, "UNLOCK TABLES", cancellationToken).ConfigureAwait(false);
            }

            log.Information("Source snapshot at binlog {Position} shared by {Readers} readers", position, readers.Count);
            return new MySqlSnapshot(readers, position, zeroDates);
        }
        catch
        {
            foreach (var reader in readers)
            {
                await reader.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>
    /// An integer key is split by its bounds alone (two index lookups); a string, binary or DECIMAL key by walking its
    /// index in steps of <paramref name="rows"/> / <paramref name="count"/> rows, each step an index seek from the last
    /// bound, so the whole walk reads the key's index once (a window function numbering every row cost several times a
    /// full read). Other keys (dates, floats, ENUM) are read as one range.
    /// </summary>
    public Task<IReadOnlyList<KeyRange>> SplitAsync(TableModel table, int count, long rows, string? where, CancellationToken cancellationToken)
    {
        var family = table.HasPrimaryKey ? table.Column(table.PrimaryKey[0]).Type.Family : ColumnTypeFamily.Other;
        if (count <= 1 || family is not (ColumnTypeFamily.Integer or ColumnTypeFamily.Text or ColumnTypeFamily.Binary or ColumnTypeFamily.Decimal))
        {
            return Task.FromResult<IReadOnlyList<KeyRange>>([KeyRange.All]);
        }

        var key = table.PrimaryKey[0];
        var filter = WhereClause.Of(null, null, where);
        if (family == ColumnTypeFamily.Integer)
        {
            return OnIdleReaderAsync(connection => IntegerRangesAsync(connection, table.Name, key, count, filter, cancellationToken), cancellationToken);
        }

        var step = Math.Max(1, (rows + count - 1) / count);
        var text = family == ColumnTypeFamily.Binary ? $"HEX({Quote(key)})" : $"CAST({Quote(key)} AS CHAR)";
        return OnIdleReaderAsync(connection => KeyRanges.WalkAsync(key, count, async previous =>
        {
            var after = WhereClause.Of(previous is null ? null : $"{Quote(key)} > {Bound(table, key, previous)}", null, where);
            await using var command = new MySqlCommand(
                $"SELECT {text} FROM {Quote(table.Name)}{after} " +
                $"ORDER BY {Quote(key)} LIMIT 1 OFFSET {(previous is null ? step : step - 1)}", connection);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        }), cancellationToken);
    }

    /// <summary>Up to <paramref name="count"/> ranges of an integer key, cut by its bounds alone (two index lookups).</summary>
    internal static async Task<IReadOnlyList<KeyRange>> IntegerRangesAsync(MySqlConnection connection, TableName table, string key, int count, string filter,
        CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            $"SELECT CAST(MIN({Quote(key)}) AS CHAR), CAST(MAX({Quote(key)}) AS CHAR) FROM {Quote(table)}{filter}", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        // An unsigned BIGINT beyond long's range is read as one range.
        return !reader.IsDBNull(0)
               && long.TryParse(reader.GetString(0), NumberStyles.Integer, CultureInfo.InvariantCulture, out var min)
               && long.TryParse(reader.GetString(1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var max)
            ? KeyRanges.Split(key, min, max, count)
            : [KeyRange.All];
    }

    public Task<long> CountRowsAsync(TableModel table, string? where, CancellationToken cancellationToken) =>
        OnIdleReaderAsync(async connection =>
        {
            await using var command = new MySqlCommand($"SELECT COUNT(*) FROM {Quote(table.Name)}{WhereClause.Of(null, null, where)}", connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }, cancellationToken);

    /// <summary>Runs one query on a reader of the snapshot, handing the reader back after it.</summary>
    private async Task<T> OnIdleReaderAsync<T>(Func<MySqlConnection, Task<T>> query, CancellationToken cancellationToken)
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

    /// <summary>
    /// Binary COPY rows, converted per column by <see cref="MySqlValueTable"/> (the faster path); a table with a value
    /// binary COPY cannot carry (a DECIMAL wider than .NET's 28 digits) goes as CSV text instead, so that every digit arrives.
    /// </summary>
    public async Task<ShardData> ReadAsync(TablePlan plan, KeyRange range, string? where, CancellationToken cancellationToken)
    {
        var columns = Columns(plan);
        if (columns.Any(c => !c.Converter.CopiesAsBinary))
        {
            return await ReadCsvAsync(plan, range, where, cancellationToken).ConfigureAwait(false);
        }

        var writers = columns.Select(c => c.Writer()).ToList();
        var (reader, release) = await OpenReaderAsync(plan, range, where, cancellationToken).ConfigureAwait(false);
        return new RowShard(reader, writers, release);
    }

    public async Task<CsvShard> ReadCsvAsync(TablePlan plan, KeyRange range, string? where, CancellationToken cancellationToken)
    {
        var columns = Columns(plan);
        var (reader, release) = await OpenReaderAsync(plan, range, where, cancellationToken).ConfigureAwait(false);
        return new MySqlCsvShard(reader, plan, columns, release);
    }

    private List<MySqlShardColumn> Columns(TablePlan plan) =>
        plan.Columns.Select(c => new MySqlShardColumn(MySqlReaderValues.For(c.Source), MySqlValueTable.For(c, zeroDates))).ToList();

    /// <summary>Runs the shard's SELECT on an idle reader; the release disposes the command and hands the reader back.</summary>
    private async Task<(MySqlDataReader Reader, Func<ValueTask> Release)> OpenReaderAsync(TablePlan plan, KeyRange range, string? where,
        CancellationToken cancellationToken)
    {
        var connection = await idle.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var command = new MySqlCommand(SelectSql(plan, range, where), connection);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return (reader, async () =>
            {
                await command.DisposeAsync().ConfigureAwait(false);
                idle.Writer.TryWrite(connection);
            });
        }
        catch
        {
            idle.Writer.TryWrite(connection);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var reader in readers)
        {
            await reader.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal static string SelectSql(TablePlan plan, KeyRange range, string? where)
    {
        var filter = WhereClause.Of(
            range.Lower is null ? null : $"{Quote(range.KeyColumn!)} >= {Bound(plan.Source, range.KeyColumn!, range.Lower)}",
            range.Upper is null ? null : $"{Quote(range.KeyColumn!)} < {Bound(plan.Source, range.KeyColumn!, range.Upper)}",
            where);

        return $"SELECT {string.Join(", ", plan.Columns.Select(c => MySqlExactValues.SelectItem(c.Source)))} FROM {Quote(plan.Source.Name)}{filter}";
    }

    /// <summary>
    /// A bound as a literal MySQL compares the way the key orders: a number for integers and DECIMAL (a quoted one would
    /// be compared as a double), a hex string for binary keys, and a quoted string, which takes on the column's collation,
    /// for the rest. Bounds come back from the target's state, so each form is checked before it becomes SQL.
    /// </summary>
    private static string Bound(TableModel table, string keyColumn, string value) => table.Column(keyColumn).Type.Family switch
    {
        ColumnTypeFamily.Integer => long.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
        ColumnTypeFamily.Decimal => DecimalText().IsMatch(value)
            ? value
            : throw new FormatException($"The shard bound '{value}' of {table.Name}.{keyColumn} is not a decimal number."),
        ColumnTypeFamily.Binary => HexText().IsMatch(value)
            ? $"X'{value}'"
            : throw new FormatException($"The shard bound '{value}' of {table.Name}.{keyColumn} is not hexadecimal."),
        _ => Literal(value),
    };

    [GeneratedRegex("^-?[0-9]+(\\.[0-9]+)?$")]
    private static partial Regex DecimalText();

    [GeneratedRegex("^([0-9A-F]{2})*$")]
    private static partial Regex HexText();

    private static async Task<bool> TryLockAsync(MySqlConnection control, ILogger log, CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync(control, "FLUSH TABLES WITH READ LOCK", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (MySqlException ex) when (ex.Number == AccessDenied)
        {
            log.Warning("The source user lacks RELOAD, so no global read lock can align several snapshots: all shards are read through one " +
                        "consistent snapshot, one at a time. Grant RELOAD for parallel reads.");
            return false;
        }
    }

    private static async Task<SourcePosition> ReadPositionAsync(MySqlConnection connection, bool locked, CancellationToken cancellationToken)
    {
        var mariaDb = MySqlConnections.IsMariaDb(connection.ServerVersion);
        string? file = null;
        string? offset = null;
        // MariaDB reports the position of the reader's own snapshot; under the lock the server's binlog position is the same point.
        var sql = !locked && mariaDb
            ? "SELECT (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'BINLOG_SNAPSHOT_FILE'), " +
              "(SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'BINLOG_SNAPSHOT_POSITION')"
            : "SHOW MASTER STATUS";
        await using (var command = new MySqlCommand(sql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !reader.IsDBNull(0))
            {
                file = reader.GetValue(0).ToString();
                offset = reader.GetValue(1).ToString();
            }
        }

        if (file is null)
        {
            throw new MoltException(MoltErrorKind.InvalidState, "BinaryLogDisabled", "The source has no binary log, so no replication position can be recorded.",
                "Enable log_bin (with binlog_format=ROW and binlog_row_image=FULL) on the source; Test-MoltConnection -For Replication checks it.");
        }

        await using var gtid = new MySqlCommand(mariaDb ? "SELECT @@gtid_binlog_pos" : "SELECT @@GLOBAL.gtid_executed", connection);
        var gtidSet = Convert.ToString(await gtid.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        var coordinates = BinlogCoordinates.Parse($"{file}:{offset}");
        var gtids = string.IsNullOrEmpty(gtidSet) ? null : gtidSet.Replace("\n", string.Empty, StringComparison.Ordinal);
        return mariaDb
            ? MariaDbGtidList.Parse(gtids ?? string.Empty) with { Coordinates = coordinates }
            : new MySqlGtidPosition(gtids is null ? null : GtidSet.Parse(gtids), coordinates);
    }

    private static async Task ExecuteAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
