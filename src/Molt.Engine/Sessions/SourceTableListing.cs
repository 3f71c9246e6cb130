using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Schema;

namespace Molt.Engine.Sessions;

/// <summary>The tables a source holds, by name only: what argument completion offers for -Schema and -Table.</summary>
public static class SourceTableListing
{
    public static async Task<IReadOnlyList<TableName>> ListAsync(EndpointAddress source, CancellationToken cancellationToken)
    {
        await using var endpoint = await DatabaseRegistry.OpenSourceAsync(source, new SourceOptions(), Serilog.Core.Logger.None, cancellationToken)
            .ConfigureAwait(false);
        var tables = await endpoint.Catalog.ReadTablesAsync(TableFilter.All, cancellationToken).ConfigureAwait(false);
        return tables.Select(t => t.Name).ToList();
    }
}
