namespace Molt.Engine.Schema;

/// <summary>Reads table definitions from a database's catalog.</summary>
internal interface ICatalogReader
{
    /// <summary>The user tables the filter selects, ordered by name, Molt's own <c>_molt</c> schema never included.</summary>
    Task<IReadOnlyList<TableModel>> ReadTablesAsync(TableFilter filter, CancellationToken cancellationToken);
}
