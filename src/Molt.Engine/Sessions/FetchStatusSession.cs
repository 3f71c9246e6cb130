using Molt.Engine.Endpoints;
using Molt.Engine.State;

namespace Molt.Engine.Sessions;

/// <summary>The load runs recorded in a target, as Get-MoltFetchStatus reads them.</summary>
public static class FetchStatusSession
{
    public static async Task<IReadOnlyList<FetchRunReport>> ReadAsync(EndpointAddress target, string? fetchId, CancellationToken cancellationToken)
    {
        var (dataSource, lease) = await DatabaseRegistry.OpenStateAsync(target, cancellationToken).ConfigureAwait(false);
        await using (dataSource.ConfigureAwait(false))
        {
            return await FetchStatusReader.ReadAsync(dataSource, lease, fetchId, cancellationToken).ConfigureAwait(false);
        }
    }
}
