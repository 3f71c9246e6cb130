using System.Data;
using System.Data.Common;
using System.Globalization;
using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using MySqlConnector;
using Npgsql;

namespace Molt.Engine.Verify;

/// <summary>
/// One side of a comparison: reads a table's rows ordered by primary key in code-point order (the same on every
/// engine), key columns first, and single rows by key for live re-checks. Each read holds its own connection.
/// </summary>
internal abstract class VerifySide : IAsyncDisposable
{
    public abstract EndpointKind Kind { get; }

    public abstract ICatalogReader Catalog { get; }

    /// <summary>
    /// Streams the rows that match <paramref name="rowFilter"/> (all when null), key values first (typed, but DECIMAL
    /// keys as text), then the columns (as text when <paramref name="asText"/>).
    /// </summary>
    public abstract Task<DbDataReader> OpenOrderedAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, CancellationToken cancellationToken);

    /// <summary>Reads one row by key, laid out as in <see cref="OpenOrderedAsync"/>; null when it does not exist or does not match the filter.</summary>
    public async Task<object?[]?> ReadRowAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, object?[] keyValues, CancellationToken cancellationToken)
    {
        await using var reader = await OpenAsync(table, key, columns, asText, rowFilter, keyValues, cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var row = new object?[reader.FieldCount];
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
        }

        return row;
    }

    protected abstract Task<DbDataReader> OpenAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, object?[] keyValues, CancellationToken cancellationToken);

    /// <summary>
    /// Why this side cannot evaluate a row filter on the table (a column or function it lacks, syntax it does not
    /// speak), or null when it can. Planned with no row read (LIMIT 0); other failures (the connection) are thrown.
    /// </summary>
    public abstract Task<string?> RowFilterErrorAsync(TableName table, string rowFilter, CancellationToken cancellationToken);

    public static VerifySide For(EndpointAddress address) =>
        address.Kind.IsMySqlFamily() ? new MySqlVerifySide(address) : new PostgresVerifySide(address);

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>DECIMAL and numeric: selected as text on both sides, every digit kept.</summary>
    public static bool IsDecimal(ColumnModel column) => column.Type.Name is "numeric" or "decimal" && !column.Type.IsArray;

    protected static bool IsText(ColumnModel column) =>
        column.Type.Name is "text" or "character varying" or "character" or "varchar" or "char" or "tinytext" or "mediumtext" or "longtext" or "enum" or "set" or "citext";
}

internal sealed class PostgresVerifySide(EndpointAddress address) : VerifySide
{
    private const string PinnedSettings =
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'; SET extra_float_digits = 3";

    private readonly NpgsqlDataSource catalogSource = PostgresConnections.CreateDataSource(address, maxPoolSize: 2);

    public override EndpointKind Kind => address.Kind;

    public override ICatalogReader Catalog => new PostgresCatalogReader(catalogSource);

    public override ValueTask DisposeAsync() => catalogSource.DisposeAsync();

    public override Task<DbDataReader> OpenOrderedAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, CancellationToken cancellationToken)
    {
        // Qualified, the key is the table's column, not the text a DECIMAL key is selected as (which would order as text).
        var order = key.Count == 0 ? ""
            : " ORDER BY " + string.Join(", ", key.Select(k => $"{PostgresSyntax.Quote(table)}.{PostgresSyntax.Quote(k.Name)}" + (IsText(k) ? " COLLATE \"C\"" : "")));
        return ExecuteAsync(Select(table, key, columns, asText) + WhereClause.Of(null, null, rowFilter) + order, [], cancellationToken);
    }

    protected override Task<DbDataReader> OpenAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, object?[] keyValues, CancellationToken cancellationToken) =>
        ExecuteAsync(Select(table, key, columns, asText) + WhereClause.Of(
                string.Join(" AND ", key.Select((k, i) => $"{PostgresSyntax.Quote(k.Name)} = ${i + 1}{(IsDecimal(k) ? "::numeric" : "")}")), null, rowFilter),
            keyValues.Select(BindableKey).ToArray(), cancellationToken);

    /// <summary>
    /// A key value read from the other side, as a type Npgsql binds to the column's: MySQL's unsigned integers widened
    /// (uint would be sent as an oid), its dates as DateTime.
    /// </summary>
    private static object? BindableKey(object? value) => value switch
    {
        sbyte or byte => Convert.ToInt16(value, CultureInfo.InvariantCulture),
        ushort number => (int)number,
        uint number => (long)number,
        ulong number => (decimal)number,
        MySqlDateTime date => date.GetDateTime(),
        _ => value,
    };

    public override async Task<string?> RowFilterErrorAsync(TableName table, string rowFilter, CancellationToken cancellationToken)
    {
        try
        {
            await using var reader = await ExecuteAsync($"SELECT 1 FROM {PostgresSyntax.Quote(table)}{WhereClause.Of(null, null, rowFilter)} LIMIT 0", [],
                cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (PostgresException ex) when (ex.SqlState.StartsWith("42", StringComparison.Ordinal) || ex.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            return ex.MessageText;
        }
    }

    // Floats by value: their text depends on extra_float_digits.
    private static string Select(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText) =>
        "SELECT " + string.Join(", ", key.Select(k => IsDecimal(k) ? $"{PostgresSyntax.Quote(k.Name)}::text" : PostgresSyntax.Quote(k.Name))
            .Concat(columns.Select(c => (asText && !IsFloat(c)) || IsDecimal(c) ? $"{PostgresSyntax.Quote(c.Name)}::text" : PostgresSyntax.Quote(c.Name))))
        + $" FROM {PostgresSyntax.Quote(table)}";

    private static bool IsFloat(ColumnModel column) => column.Type.Name is "real" or "double precision" && !column.Type.IsArray;

    private async Task<DbDataReader> ExecuteAsync(string sql, object?[] parameters, CancellationToken cancellationToken)
    {
        var connection = await PostgresConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        try
        {
            // Values compared as text are read in one form whatever each database's defaults.
            await using (var settings = new NpgsqlCommand(PinnedSettings, connection))
            {
                await settings.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var command = new NpgsqlCommand(sql, connection);
            foreach (var parameter in parameters)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = parameter ?? DBNull.Value });
            }

            return await command.ExecuteReaderAsync(CommandBehavior.CloseConnection, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

internal sealed class MySqlVerifySide(EndpointAddress address) : VerifySide
{
    public override EndpointKind Kind => address.Kind;

    public override ICatalogReader Catalog { get; } = new MySqlCatalogReader(MySqlConnections.Builder(address).ConnectionString, address.Database);

    public override Task<DbDataReader> OpenOrderedAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, CancellationToken cancellationToken)
    {
        // Binary order of the utf8mb4 bytes is code-point order, as PostgreSQL's "C" collation.
        var order = key.Count == 0 ? "" : " ORDER BY " + string.Join(", ", key.Select(k => IsText(k) ? $"CAST({MySqlSyntax.Quote(k.Name)} AS BINARY)" : MySqlExactValues.Expression(k)));
        return ExecuteAsync(Select(table, key, columns) + WhereClause.Of(null, null, rowFilter) + order, [], cancellationToken);
    }

    protected override Task<DbDataReader> OpenAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, object?[] keyValues, CancellationToken cancellationToken) =>
        ExecuteAsync(Select(table, key, columns) + WhereClause.Of(
                string.Join(" AND ", key.Select((k, i) => $"{MySqlExactValues.Expression(k)} = {(IsDecimal(k) ? $"CAST(@p{i} AS DECIMAL(65,30))" : $"@p{i}")}")), null, rowFilter),
            keyValues.Select(v => v is float single ? (double)single : v).ToArray(), cancellationToken);

    public override async Task<string?> RowFilterErrorAsync(TableName table, string rowFilter, CancellationToken cancellationToken)
    {
        try
        {
            await using var reader = await ExecuteAsync($"SELECT 1 FROM {MySqlSyntax.Quote(table)}{WhereClause.Of(null, null, rowFilter)} LIMIT 0", [],
                cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (MySqlException ex) when (ex.SqlState is { } state && (state.StartsWith("42", StringComparison.Ordinal) || state.StartsWith("22", StringComparison.Ordinal)))
        {
            return ex.Message;
        }
    }

    private static string Select(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns) =>
        $"SELECT {string.Join(", ", key.Concat(columns).Select(c => IsDecimal(c) ? $"CAST({MySqlSyntax.Quote(c.Name)} AS CHAR)" : MySqlExactValues.Expression(c)))} FROM {MySqlSyntax.Quote(table)}";

    private async Task<DbDataReader> ExecuteAsync(string sql, object?[] parameters, CancellationToken cancellationToken)
    {
        var connection = await MySqlConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        try
        {
            // TIMESTAMP values in UTC, as the load read them.
            await using (var zone = new MySqlCommand("SET time_zone = '+00:00'", connection))
            {
                await zone.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var command = new MySqlCommand(sql, connection);
            for (var i = 0; i < parameters.Length; i++)
            {
                command.Parameters.AddWithValue($"@p{i}", parameters[i]);
            }

            return await command.ExecuteReaderAsync(CommandBehavior.CloseConnection, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
