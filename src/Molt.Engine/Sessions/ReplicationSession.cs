using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.State;
using Serilog.Context;

namespace Molt.Engine.Sessions;

/// <summary>
/// A replication as a host drives it. Start: the publication and slot are created, every table is loaded from the
/// snapshot the slot exported, and the changes committed after it are streamed. Resume: the stream goes on from the
/// checkpoint in the target, or, after a Start-MoltBulkLoad -ReplicationSlot load, from the load's recorded position. Both
/// return the final status when the stream stops (a stop request, -StopAt, -StopWhenCaughtUp).
/// </summary>
public sealed class ReplicationSession : IAsyncDisposable
{
    private readonly ReplicationOptions options;
    private readonly MoltLogSession log;
    private readonly BulkLoadSession load;
    private readonly ReplicationSource source;
    private readonly ReplicationTarget target;

    private ReplicationSession(ReplicationOptions options, MoltLogSession log, BulkLoadSession load, ReplicationSource source, ReplicationTarget target)
    {
        this.options = options;
        this.log = log;
        this.load = load;
        this.source = source;
        this.target = target;
    }

    /// <summary>The stream's id: the given one, or a new one for a Start.</summary>
    public string FetchId { get; private init; } = "";

    /// <summary>The source slot the stream reads (it keeps the source's log until the replication is removed); null for a binlog source.</summary>
    public string? Slot => source.Slot;

    public string? Publication => source.Publication;

    /// <summary>
    /// Opens both endpoints, failing before anything is written: a source that cannot be replicated from, a target that
    /// cannot be written, one database given as both, an unreachable server.
    /// </summary>
    public static async Task<ReplicationSession> OpenAsync(EndpointAddress sourceAddress, EndpointAddress targetAddress, ReplicationOptions options,
        MoltLogSession log, CancellationToken cancellationToken)
    {
        var fetchId = options.FetchId ?? Guid.NewGuid().ToString("D");
        DatabaseRegistry.EnsureLoadTarget(targetAddress);
        // Before the target's state tables and the source's slot exist: one database as both would get them all.
        await DatabaseIdentity.EnsureDistinctAsync(sourceAddress, targetAddress, cancellationToken).ConfigureAwait(false);
        var slot = options.SlotName;
        ReplicationTarget? target = null;
        ReplicationSource? source = null;
        try
        {
            target = await DatabaseRegistry.OpenReplicationTargetAsync(targetAddress, sourceAddress, options.Load, options.Batch, cancellationToken).ConfigureAwait(false);
            // A Resume reads the slot the stream was started with, unless told otherwise.
            slot ??= options.FetchId is null ? null
                : (await new ReplicationStateStore(target.DataSource).ReadStreamsAsync(fetchId, cancellationToken).ConfigureAwait(false)) is [var stream, ..] ? stream.Slot : null;
            source = await DatabaseRegistry.OpenReplicationSourceAsync(sourceAddress, fetchId, slot, options.PublicationName, cancellationToken, options.ZeroDates)
                .ConfigureAwait(false);
            var loadSession = await BulkLoadSession.OpenAsync(sourceAddress, targetAddress, options.Load with { FetchId = fetchId },
                new SourceOptions { ReplicationSlot = source.Slot, ReplicationPublication = source.Publication, ZeroDates = options.ZeroDates }, log, cancellationToken)
                .ConfigureAwait(false);
            return new ReplicationSession(options, log, loadSession, source, target) { FetchId = fetchId };
        }
        catch
        {
            if (source is not null)
            {
                await source.Source.DisposeAsync().ConfigureAwait(false);
            }

            if (target is not null)
            {
                await target.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>The load a Start runs first, planned exactly as Start-MoltBulkLoad plans it (for -WhatIf too).</summary>
    public Task<LoadPlan> PlanAsync(CancellationToken cancellationToken) => load.PlanAsync(cancellationToken);

    /// <summary>
    /// Claims the stream, loads <paramref name="plan"/> from the slot's snapshot (the load's own
    /// progress and results go to <paramref name="loadCallbacks"/>, its summary to <paramref name="onLoadFinished"/>), then
    /// streams from the slot's consistent point until the stream stops.
    /// </summary>
    /// <exception cref="MoltException"><c>ReplicationLoadFailed</c> when the load did not succeed (nothing was streamed), or the stream's errors.</exception>
    public async Task<ReplicationStatus> StartAsync(LoadPlan plan, BulkLoadCallbacks loadCallbacks, Action<BulkLoadSummary> onLoadFinished,
        IProgress<ReplicationStatus>? status, CancellationToken cancellationToken)
    {
        using (LogContext.PushProperty("FetchId", plan.FetchId))
        {
            // Refusals before the claim, which records the stream: over an existing stream's own state, or for a start that never began.
            if (await new ReplicationStateStore(target.DataSource).ReadStreamsAsync(plan.FetchId, cancellationToken).ConfigureAwait(false) is [_, ..])
            {
                throw new MoltException(MoltErrorKind.InvalidState, "FetchIdInUse", $"The target already has a replication with id '{plan.FetchId}'.",
                    $"Resume-MoltReplication -FetchId '{plan.FetchId}' continues it; or choose another -FetchId (or none, and Molt picks one).") { Target = plan.FetchId };
            }

            await load.PrepareReplicationAsync(plan, cancellationToken).ConfigureAwait(false);

            await using var claim = await target.Control.ClaimAsync(plan.FetchId, cancellationToken).ConfigureAwait(false);
            var loading = new ReplicationStatus(plan.FetchId, ReplicationState.Loading, DateTimeOffset.UtcNow) { Slot = source.Slot };
            await target.Control.PublishAsync(loading, cancellationToken).ConfigureAwait(false);
            status?.Report(loading);
            var plans = plan.Tables.Select(t => t.Plan).ToList();
            var summary = await load.ExecuteAsync(plan, loadCallbacks, cancellationToken).ConfigureAwait(false);
            onLoadFinished(summary);
            if (summary.Status != RunStatus.Succeeded || summary.SnapshotPosition is null)
            {
                var error = new MoltException(MoltErrorKind.InvalidState, "ReplicationLoadFailed",
                    $"The load of replication '{plan.FetchId}' ended {summary.Status}, so no change was streamed." +
                    (source.Slot is { } slot ? $" The slot '{slot}' keeps the source's log meanwhile." : ""),
                    $"Finish the load (Start-MoltBulkLoad -FetchId '{plan.FetchId}' -Resume), then Resume-MoltReplication" +
                    (source.Slot is null ? "." : "; or Remove-MoltReplication to drop the slot."))
                {
                    Target = plan.FetchId,
                };
                await target.Control.PublishAsync(loading with { State = ReplicationState.Failed, At = DateTimeOffset.UtcNow, Error = error.Message }, cancellationToken)
                    .ConfigureAwait(false);
                throw error;
            }

            return await Loop().RunClaimedAsync(plan.FetchId, plans, summary.SnapshotPosition, source.Slot, status, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>Claims the stream and applies it from its checkpoint, or from the position its -ReplicationSlot load recorded.</summary>
    /// <exception cref="MoltException">No such stream or load (<c>ReplicationNotFound</c>), its load unfinished (<c>ReplicationLoadUnfinished</c>), held elsewhere, or the stream's errors.</exception>
    public async Task<ReplicationStatus> ResumeAsync(IProgress<ReplicationStatus>? status, CancellationToken cancellationToken)
    {
        if (options.FetchId is null)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "ReplicationNeedsFetchId", "Resuming a replication needs its -FetchId.",
                "Get-MoltReplicationStatus lists the streams recorded in the target, Get-MoltFetchStatus the loads.");
        }

        using (LogContext.PushProperty("FetchId", FetchId))
        {
            // Before the claim, which creates the state tables: an unknown FetchId leaves the target as it was. A run once
            // recorded stays, so reading it unclaimed is safe.
            var run = await new LoadStateStore(target.DataSource).FindRunAsync(FetchId, cancellationToken).ConfigureAwait(false)
                ?? throw new MoltException(MoltErrorKind.NotFound, "ReplicationNotFound", $"The target has no replication or load with id '{FetchId}'.",
                    "Get-MoltReplicationStatus lists the streams recorded in the target, Get-MoltFetchStatus the loads.") { Target = FetchId };
            await using var claim = await target.Control.ClaimAsync(FetchId, cancellationToken).ConfigureAwait(false);
            var checkpoint = await target.Applier.ReadCheckpointAsync(FetchId, cancellationToken).ConfigureAwait(false);
            if (checkpoint is null && (run.Status != RunStatus.Succeeded || run.SnapshotPosition is null))
            {
                throw new MoltException(MoltErrorKind.InvalidState, "ReplicationLoadUnfinished",
                    $"Load run '{FetchId}' is {run.Status}: changes can only be streamed onto tables loaded completely.",
                    $"Finish it first (Start-MoltBulkLoad -FetchId '{FetchId}' -Resume), then Resume-MoltReplication.") { Target = FetchId };
            }

            // Before planning, so that a stop waited for meanwhile does not read the status the stream stopped with last time.
            var streaming = new ReplicationStatus(FetchId, ReplicationState.Streaming, DateTimeOffset.UtcNow) { Slot = source.Slot };
            await target.Control.PublishAsync(streaming, cancellationToken).ConfigureAwait(false);
            LoadPlan plan;
            try
            {
                plan = await load.PlanLoadedAsync(run, cancellationToken).ConfigureAwait(false);
            }
            catch (MoltException ex)
            {
                await target.Control.PublishAsync(streaming with { State = ReplicationState.Failed, At = DateTimeOffset.UtcNow, Error = ex.Message }, cancellationToken)
                    .ConfigureAwait(false);
                throw;
            }

            var start = checkpoint?.Position ?? source.LoadPosition(run);
            // A load resumed after an interruption read its remaining shards from a later snapshot than the stream's start.
            var snapshots = await new LoadStateStore(target.DataSource).ReadTableSnapshotsAsync(FetchId, cancellationToken).ConfigureAwait(false);
            var plans = plan.Tables.Select(t => t.Plan with { LoadedSnapshot = snapshots.GetValueOrDefault(t.Plan.Source.Name.ToString()) }).ToList();
            return await Loop().RunClaimedAsync(FetchId, plans, start, source.Slot, status, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await load.DisposeAsync().ConfigureAwait(false);
        await source.Source.DisposeAsync().ConfigureAwait(false);
        await target.DisposeAsync().ConfigureAwait(false);
    }

    private ReplicationLoop Loop() =>
        new(source.Source, target.Applier, target.Position, target.Control, options with { Batch = target.Limits }, ReplicationTiming.Default, log.Logger);
}
