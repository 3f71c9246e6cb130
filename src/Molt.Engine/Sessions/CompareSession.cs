using Molt.Engine.Endpoints;
using Molt.Engine.Logging;
using Molt.Engine.Verify;

namespace Molt.Engine.Sessions;

/// <summary>
/// A comparison as a host drives it: both endpoints checked up front (reachable, and not one database, which would
/// compare equal whatever it holds), then every selected table compared.
/// </summary>
public static class CompareSession
{
    public static async Task<IReadOnlyList<TableComparison>> RunAsync(EndpointAddress sourceAddress, EndpointAddress targetAddress, CompareOptions options,
        CompareCallbacks callbacks, MoltLogSession log, CancellationToken cancellationToken)
    {
        await DatabaseRegistry.EnsureReachableAsync(sourceAddress, cancellationToken).ConfigureAwait(false);
        await DatabaseRegistry.EnsureReachableAsync(targetAddress, cancellationToken).ConfigureAwait(false);
        await DatabaseIdentity.EnsureDistinctAsync(sourceAddress, targetAddress, cancellationToken).ConfigureAwait(false);
        await using var source = DatabaseRegistry.OpenVerifySide(sourceAddress);
        await using var target = DatabaseRegistry.OpenVerifySide(targetAddress);
        return await new DataComparer(source, target, options, log.Logger).CompareAsync(callbacks, cancellationToken).ConfigureAwait(false);
    }
}
