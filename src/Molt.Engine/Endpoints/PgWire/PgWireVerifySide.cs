using System.Data;
using System.Data.Common;
using System.Globalization;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Verify;
using MySqlConnector;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>A pgwire side of a comparison (PostgreSQL, CockroachDB), whose tables <paramref name="catalog"/> reads.</summary>
/// <param name="binaryCopy">The server sends PostgreSQL's binary COPY of a query (PostgreSQL does; CockroachDB does not).</param>
internal sealed class PgWireVerifySide(EndpointAddress address, Func<NpgsqlDataSource, ICatalogReader> catalog, bool binaryCopy = false) : VerifySide
{
    private const string PinnedSettings =
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'; SET extra_float_digits = 3";

    private readonly NpgsqlDataSource catalogSource = PgWireConnections.CreateDataSource(address, maxPoolSize: 2);

    public override SqlSyntax Syntax => SqlSyntax.Postgres;

    public override ICatalogReader Catalog => catalog(catalogSource);

    protected override async ValueTask DisposeAsyncCore()
    {
        await catalogSource.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsyncCore().ConfigureAwait(false);
    }

    public override Task<DbDataReader> OpenOrderedAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, CancellationToken cancellationToken)
    {
        return ExecuteAsync(Select(table, key, columns, asText) + WhereClause.Of(null, null, rowFilter) + OrderBy(table, key), [], cancellationToken);
    }

    // Qualified, the key is the table's column, not the text a DECIMAL key is selected as (which would order as text).
    private static string OrderBy(TableName table, IReadOnlyList<ColumnModel> key) => key.Count == 0 ? ""
        : " ORDER BY " + string.Join(", ", key.Select(k => $"{PgWireSyntax.Quote(table)}.{PgWireSyntax.Quote(k.Name)}" + (IsText(k) ? " COLLATE \"C\"" : "")));

    public override bool ReadsBinaryCopy => binaryCopy;

    public override async Task<BinaryCopyRows> OpenBinaryOrderedAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns,
        string? rowFilter, CancellationToken cancellationToken)
    {
        var select = "SELECT " + string.Join(", ", key.Concat(columns).Select(c => PgWireSyntax.Quote(c.Name))) + $" FROM {PgWireSyntax.Quote(table)}"
            + WhereClause.Of(null, null, rowFilter) + OrderBy(table, key);
        var connection = await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        try
        {
            var copy = await connection.BeginRawBinaryCopyAsync($"COPY ({select}) TO STDOUT (FORMAT binary)", cancellationToken).ConfigureAwait(false);
            return new BinaryCopyRows(copy, key.Count + columns.Count, async ended =>
            {
                // Disposing an unfinished COPY would read the rest of the table: cancel it on the server instead.
                if (!ended)
                {
                    await CancelQuietlyAsync(copy).ConfigureAwait(false);
                }

                await DisposeQuietlyAsync(copy).ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
            });
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A COPY that already ended with an error cannot be cancelled again: that error is the one reported.</summary>
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

    private static async ValueTask DisposeQuietlyAsync(NpgsqlRawCopyStream copy)
    {
        try
        {
            await copy.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException)
        {
            // A cancelled COPY ends with an error by design.
        }
    }

    protected internal override Task<DbDataReader> OpenAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, object?[] keyValues, CancellationToken cancellationToken) =>
        ExecuteAsync(Select(table, key, columns, asText) + WhereClause.Of(
                string.Join(" AND ", key.Select((k, i) => $"{PgWireSyntax.Quote(k.Name)} = ${i + 1}{(IsDecimal(k) ? "::numeric" : "")}")), null, rowFilter),
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
            await using var reader = await ExecuteAsync($"SELECT 1 FROM {PgWireSyntax.Quote(table)}{WhereClause.Of(null, null, rowFilter)} LIMIT 0", [],
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
        "SELECT " + string.Join(", ", key.Select(k => IsDecimal(k) ? $"{PgWireSyntax.Quote(k.Name)}::text" : PgWireSyntax.Quote(k.Name))
            .Concat(columns.Select(c => IsSpatial(c) ? $"ST_AsEWKB({PgWireSyntax.Quote(c.Name)}::geometry){(asText ? "::text" : "")}"
                : (asText && !IsFloat(c)) || IsDecimal(c) ? $"{PgWireSyntax.Quote(c.Name)}::text" : PgWireSyntax.Quote(c.Name))))
        + $" FROM {PgWireSyntax.Quote(table)}";

    /// <summary>
    /// A PostGIS or CockroachDB geometry or geography, compared as its EWKB: what a bytea column holds where the target has no
    /// PostGIS, and what the MySQL side computes from its own layout.
    /// </summary>
    private static bool IsSpatial(ColumnModel column) => column.Type.Family == ColumnTypeFamily.Spatial && !column.Type.IsArray;

    private static bool IsFloat(ColumnModel column) => column.Type.Family == ColumnTypeFamily.Float && !column.Type.IsArray;

    private async Task<DbDataReader> ExecuteAsync(string sql, object?[] parameters, CancellationToken cancellationToken)
    {
        var connection = await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
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
