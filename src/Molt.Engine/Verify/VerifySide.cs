using System.Data.Common;
using Molt.Engine.Schema;

namespace Molt.Engine.Verify;

/// <summary>
/// One side of a comparison: reads a table's rows ordered by primary key in code-point order (the same on every
/// engine), key columns first, and single rows by key for live re-checks. Each read holds its own connection.
/// </summary>
internal abstract class VerifySide : IAsyncDisposable
{
    /// <summary>The SQL this side speaks: what its values are read as, and what its tables are named in.</summary>
    public abstract SqlSyntax Syntax { get; }

    public abstract ICatalogReader Catalog { get; }

    /// <summary>
    /// Streams the rows that match <paramref name="rowFilter"/> (all when null), key values first (typed, but DECIMAL
    /// keys as text), then the columns (as text when <paramref name="asText"/>).
    /// </summary>
    public abstract Task<DbDataReader> OpenOrderedAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, CancellationToken cancellationToken);

    /// <summary>Whether <see cref="OpenBinaryOrderedAsync"/> can be used: a PostgreSQL side (CockroachDB's binary COPY TO is not PostgreSQL's).</summary>
    public virtual bool ReadsBinaryCopy => false;

    /// <summary>
    /// Streams the same rows as <see cref="OpenOrderedAsync"/>, in the same order, as binary COPY: key columns first, then
    /// the columns, each as its type sends it. Only when <see cref="ReadsBinaryCopy"/>.
    /// </summary>
    public virtual Task<BinaryCopyRows> OpenBinaryOrderedAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns,
        string? rowFilter, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} does not read binary COPY.");

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

    protected internal abstract Task<DbDataReader> OpenAsync(TableName table, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> columns, bool asText,
        string? rowFilter, object?[] keyValues, CancellationToken cancellationToken);

    /// <summary>
    /// Why this side cannot evaluate a row filter on the table (a column or function it lacks, syntax it does not
    /// speak), or null when it can. Planned with no row read (LIMIT 0); other failures (the connection) are thrown.
    /// </summary>
    public abstract Task<string?> RowFilterErrorAsync(TableName table, string rowFilter, CancellationToken cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the side holds (its catalog's data source, for instance).</summary>
    protected virtual ValueTask DisposeAsyncCore() => ValueTask.CompletedTask;

    /// <summary>DECIMAL and numeric: selected as text on both sides, every digit kept.</summary>
    public static bool IsDecimal(ColumnModel column) => column.Type.Family == ColumnTypeFamily.Decimal && !column.Type.IsArray;

    /// <summary>
    /// Values ordered as text: text types, and MySQL's ENUM and SET, whose labels load as text (a PostgreSQL enum is a type
    /// of its own, with a user type name, ordered by its declaration).
    /// </summary>
    protected static bool IsText(ColumnModel column) =>
        column.Type.Family == ColumnTypeFamily.Text || (column.Type.Family == ColumnTypeFamily.Enum && column.Type.UserTypeName is null);
}
