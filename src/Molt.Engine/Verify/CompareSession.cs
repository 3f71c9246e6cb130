using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Logging;

namespace Molt.Engine.Verify;

/// <summary>
/// A comparison as a host drives it: both endpoints checked up front (reachable, and not one database, which would
/// compare equal whatever it holds), then every selected table compared.
/// </summary>
public static class CompareSession
{
    public static async Task<IReadOnlyList<TableComparison>> RunAsync(EndpointAddress sourceAddress, EndpointAddress targetAddress, CompareOptions options,
        CompareCallbacks callbacks, MoltLogSession log, CancellationToken cancellationToken)
    {
        await EnsureReachableAsync(sourceAddress, cancellationToken).ConfigureAwait(false);
        await EnsureReachableAsync(targetAddress, cancellationToken).ConfigureAwait(false);
        await DatabaseIdentity.EnsureDistinctAsync(sourceAddress, targetAddress, cancellationToken).ConfigureAwait(false);
        await using var source = VerifySide.For(sourceAddress);
        await using var target = VerifySide.For(targetAddress);
        return await new DataComparer(source, target, options, log.Logger).CompareAsync(callbacks, cancellationToken).ConfigureAwait(false);
    }

    private static async Task EnsureReachableAsync(EndpointAddress address, CancellationToken cancellationToken)
    {
        if (address.Kind.IsMySqlFamily())
        {
            await (await MySqlConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            await (await PostgresConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
    }
}
