using System.Data;
using System.Data.Common;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Verify;
using MySqlConnector;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>A MySQL or MariaDB side of a comparison.</summary>
internal sealed class MySqlVerifySide(EndpointAddress address) : VerifySide
{
    public override SqlSyntax Syntax => SqlSyntax.MySql;

    public override ICatalogReader Catalog { get; } = new MySqlCatalogReader(MySqlConnections.Builder(address).ConnectionString, address.Database);

    public override Task<DbDataReader> OpenOrderedAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, CancellationToken cancellationToken)
    {
        // Binary order of the utf8mb4 bytes is code-point order, as PostgreSQL's "C" collation.
        var order = key.Count == 0 ? "" : " ORDER BY " + string.Join(", ", key.Select(k => IsText(k) ? $"CAST({MySqlSyntax.Quote(k.Name)} AS BINARY)" : MySqlExactValues.Expression(k)));
        return ExecuteAsync(Select(table, key, columns) + WhereClause.Of(null, null, rowFilter) + order, [], cancellationToken);
    }

    protected internal override Task<DbDataReader> OpenAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
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
        $"SELECT {string.Join(", ", key.Concat(columns).Select(Value))} FROM {MySqlSyntax.Quote(table)}";

    /// <summary>A column's value as the target holds it: decimals as their text, spatial values as EWKB (the target side reads its EWKB).</summary>
    private static string Value(ColumnModel column) =>
        IsDecimal(column) ? $"CAST({MySqlSyntax.Quote(column.Name)} AS CHAR)"
        : MySqlSpatial.IsSpatial(column) ? MySqlSpatial.EwkbExpression(MySqlSyntax.Quote(column.Name))
        : MySqlExactValues.Expression(column);

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
