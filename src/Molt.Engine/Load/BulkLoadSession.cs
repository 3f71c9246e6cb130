using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Logging;
using Molt.Engine.Schema;

namespace Molt.Engine.Load;

/// <summary>
/// A bulk load as a host drives it: open both endpoints (failing before anything is written), plan, then execute.
/// Hosts see only Molt's own types here, never the drivers' or the logger's.
/// </summary>
public sealed class BulkLoadSession : IAsyncDisposable
{
    private readonly ISourceEndpoint source;
    private readonly LoadTarget target;
    private readonly BulkLoader loader;

    private BulkLoadSession(ISourceEndpoint source, LoadTarget target, BulkLoader loader)
    {
        this.source = source;
        this.target = target;
        this.loader = loader;
    }

    public static async Task<BulkLoadSession> OpenAsync(EndpointAddress sourceAddress, EndpointAddress targetAddress, BulkLoadOptions options,
        SourceOptions sourceOptions, MoltLogSession log, CancellationToken cancellationToken)
    {
        var source = await SourceEndpoints.OpenAsync(sourceAddress, sourceOptions, log.Logger, cancellationToken).ConfigureAwait(false);
        try
        {
            var target = await LoadTarget.OpenAsync(targetAddress, sourceAddress, Dialect, cancellationToken).ConfigureAwait(false);
            return new BulkLoadSession(source, target, new BulkLoader(source, target, options, log.Logger));
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task<LoadPlan> PlanAsync(CancellationToken cancellationToken) => loader.PlanAsync(cancellationToken);

    public Task<BulkLoadSummary> ExecuteAsync(LoadPlan plan, BulkLoadCallbacks callbacks, CancellationToken cancellationToken) =>
        loader.ExecuteAsync(plan, callbacks, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await target.DisposeAsync().ConfigureAwait(false);
        await source.DisposeAsync().ConfigureAwait(false);
    }

    private static ITargetDialect Dialect(EndpointKind kind) =>
        kind == EndpointKind.CockroachDb
            ? throw new MoltException(MoltErrorKind.InvalidArgument, "CockroachTargetUnavailable",
                "This build of Molt cannot load into CockroachDB yet: its dialect (issue 6) has not landed.",
                "Load into PostgreSQL, or use a Molt build whose README lists CockroachDB as a bulk-load target.")
            : new PostgresDialect();
}
