using System.Diagnostics;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Schema;
using Serilog.Context;

namespace Molt.Engine.Sessions;

/// <summary>
/// A bulk load as a host drives it: open both endpoints (failing before anything is written), plan, then execute.
/// Hosts see only Molt's own types here, never the drivers' or the logger's.
/// </summary>
public sealed class BulkLoadSession : IAsyncDisposable
{
    private readonly ISourceEndpoint source;
    private readonly ILoadTarget target;
    private readonly BulkLoader loader;
    private EndpointAddress? sourceAddress;
    private SourceOptions sourceOptions = new();

    private BulkLoadSession(ISourceEndpoint source, ILoadTarget target, BulkLoader loader)
    {
        this.source = source;
        this.target = target;
        this.loader = loader;
    }

    public static Task<BulkLoadSession> OpenAsync(EndpointAddress sourceAddress, EndpointAddress targetAddress, BulkLoadOptions options,
        SourceOptions sourceOptions, MoltLogSession log, CancellationToken cancellationToken) =>
        OpenAsync(sourceAddress, targetAddress, options, sourceOptions, log, targetAs: null, cancellationToken);

    /// <summary>
    /// Tests load into PostgreSQL with CockroachDB's implementations here (<paramref name="targetAs"/>): its dialect's
    /// shared-spelling SQL, its run lease and its catalog queries run against PostgreSQL.
    /// An unsupported target is refused before anything connects, and a target that is the source database once both
    /// are open, before planning (opening an endpoint writes nothing).
    /// </summary>
    internal static async Task<BulkLoadSession> OpenAsync(EndpointAddress sourceAddress, EndpointAddress targetAddress, BulkLoadOptions options,
        SourceOptions sourceOptions, MoltLogSession log, EndpointKind? targetAs, CancellationToken cancellationToken)
    {
        var opened = Stopwatch.StartNew();
        DatabaseRegistry.EnsureLoadTarget(targetAddress);
        var source = await DatabaseRegistry.OpenSourceAsync(sourceAddress, sourceOptions, log.Logger, cancellationToken).ConfigureAwait(false);
        ILoadTarget? target = null;
        try
        {
            target = await DatabaseRegistry.OpenLoadTargetAsync(targetAddress, sourceAddress, options, targetAs, log.Logger, cancellationToken).ConfigureAwait(false);
            await DatabaseIdentity.EnsureDistinctAsync(sourceAddress, targetAddress, cancellationToken).ConfigureAwait(false);
            return new BulkLoadSession(source, target, new BulkLoader(source, target, options, log.Logger, opened))
            {
                sourceAddress = sourceAddress,
                sourceOptions = sourceOptions,
            };
        }
        catch
        {
            if (target is not null)
            {
                await target.DisposeAsync().ConfigureAwait(false);
            }

            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task<LoadPlan> PlanAsync(CancellationToken cancellationToken) => loader.PlanAsync(cancellationToken);

    /// <summary>A recorded run's tables as it loaded them, for the replication that follows it.</summary>
    internal Task<LoadPlan> PlanLoadedAsync(State.LoadRun run, CancellationToken cancellationToken) => loader.PlanLoadedAsync(run, cancellationToken);

    public async Task<BulkLoadSummary> ExecuteAsync(LoadPlan plan, BulkLoadCallbacks callbacks, CancellationToken cancellationToken)
    {
        // Every line the run logs names it, so one log file written by several runs can be read run by run.
        using (LogContext.PushProperty("FetchId", plan.FetchId))
        {
            await PrepareReplicationAsync(plan, cancellationToken).ConfigureAwait(false);
            return await loader.ExecuteAsync(plan, callbacks, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// With a slot to create: the publication a replication that follows reads the tables' changes through, made (or
    /// checked) before the load creates the slot. It refuses what cannot be replicated (a table without a key or full
    /// replica identity, a slot name taken) before anything is created; running it again finds it done.
    /// </summary>
    public async Task PrepareReplicationAsync(LoadPlan plan, CancellationToken cancellationToken)
    {
        if (sourceOptions.ReplicationSlot is not null)
        {
            await DatabaseRegistry.PrepareReplicationPublicationAsync(sourceAddress!, plan.FetchId, sourceOptions.ReplicationPublication, sourceOptions.ReplicationSlot,
                plan.Tables.Select(t => t.Plan.Source).ToList(), cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await target.DisposeAsync().ConfigureAwait(false);
        await source.DisposeAsync().ConfigureAwait(false);
    }
}
