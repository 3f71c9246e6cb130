using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Npgsql;
using Serilog.Context;

namespace Molt.Engine.Sessions;

/// <summary>
/// Failback as a host drives it: the changes written on the migration target after the cutover, sent back into the
/// original source by the forward machinery with its endpoints swapped. The change source is the migration target's
/// own (PostgreSQL: its failback slot and publication, made when forward replication stopped for a stop request;
/// CockroachDB: a changefeed from the HLC recorded then, or from the checkpoint on the original); the applier and
/// its checkpoint are on the original source; the stream is claimed, asked to stop and reports its status in the
/// migration target's <c>_molt</c>, under a key of its own beside the forward stream's. <c>-Source</c> and
/// <c>-Target</c> keep their migration meaning: changes flow from the target into the source.
/// </summary>
public sealed class FailbackSession : IAsyncDisposable
{
    private readonly FailbackOptions options;
    private readonly MoltLogSession log;
    private readonly NpgsqlDataSource state;
    private readonly PgWireReplicationControl control;
    private readonly ReplicationSource source;
    private readonly FailbackTarget original;
    private readonly BulkLoadSession forwardLoad;
    private readonly EndpointKind targetKind;

    private FailbackSession(FailbackOptions options, MoltLogSession log, NpgsqlDataSource state, PgWireReplicationControl control, ReplicationSource source,
        FailbackTarget original, BulkLoadSession forwardLoad, EndpointKind targetKind)
    {
        this.targetKind = targetKind;
        this.options = options;
        this.log = log;
        this.state = state;
        this.control = control;
        this.source = source;
        this.original = original;
        this.forwardLoad = forwardLoad;
    }

    public string FetchId => options.FetchId;

    /// <summary>
    /// The slot on the migration target failback reads (it keeps the target's WAL until Remove-MoltReplication); null for a
    /// CockroachDB target, whose changefeed needs none.
    /// </summary>
    public string? Slot => source.Slot;

    /// <summary>
    /// Opens the migration target (control, change source, catalog) and the original source (applier), failing before
    /// anything is written: an unreachable server, a database failback cannot read or write yet, one database given as both.
    /// </summary>
    /// <param name="sourceAddress">The migration's source: the original database, which failback writes into.</param>
    /// <param name="targetAddress">The migration's target, which failback reads the application's changes from.</param>
    public static Task<FailbackSession> OpenAsync(EndpointAddress sourceAddress, EndpointAddress targetAddress, FailbackOptions options,
        MoltLogSession log, CancellationToken cancellationToken) =>
        OpenAsync(sourceAddress, targetAddress, options, log, null, cancellationToken);

    /// <summary>As above, reading the target's changes with <paramref name="changeSource"/> where given (the session tests: a changefeed over a PostgreSQL stand-in).</summary>
    internal static async Task<FailbackSession> OpenAsync(EndpointAddress sourceAddress, EndpointAddress targetAddress, FailbackOptions options,
        MoltLogSession log, ReplicationSource? changeSource, CancellationToken cancellationToken)
    {
        var (state, control) = await DatabaseRegistry.OpenReplicationControlAsync(targetAddress, ReplicationDirection.Failback, cancellationToken)
            .ConfigureAwait(false);
        ReplicationSource? source = changeSource;
        FailbackTarget? original = null;
        try
        {
            var target = await DatabaseRegistry.ResolveAsync(targetAddress, cancellationToken).ConfigureAwait(false);
            var forward = await control.For(ReplicationDirection.Forward).ReadStatusAsync(options.FetchId, cancellationToken).ConfigureAwait(false);
            source ??= await DatabaseRegistry.OpenFailbackSourceAsync(target, options.FetchId, forward?.FailbackSlot, cancellationToken).ConfigureAwait(false);
            original = await DatabaseRegistry.OpenFailbackApplierAsync(sourceAddress, options.Batch, options.ZeroDates, log.Logger, cancellationToken).ConfigureAwait(false);
            // Planned again for the loaded tables' columns only: a MySQL source's review of zero dates guards a load, which
            // failback does not run, and Sentinel is the handling that plans every table as it is without reading rows.
            var forwardLoad = await BulkLoadSession.OpenAsync(sourceAddress, targetAddress, new BulkLoadOptions { FetchId = options.FetchId },
                new SourceOptions { ZeroDates = ZeroDateHandling.Sentinel }, log,
                cancellationToken).ConfigureAwait(false);
            return new FailbackSession(options, log, state, control, source, original, forwardLoad, target.Kind);
        }
        catch
        {
            if (original is not null)
            {
                await original.DisposeAsync().ConfigureAwait(false);
            }

            if (source is not null)
            {
                await source.Source.DisposeAsync().ConfigureAwait(false);
            }

            await state.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Claims the failback stream and applies the target's changes into the original source from its checkpoint there, or
    /// from the target position forward replication recorded when it stopped (or <see cref="FailbackOptions.StartAt"/>),
    /// until it stops (Stop-MoltReplication -Failback, -StopWhenCaughtUp); returns the final status.
    /// </summary>
    /// <exception cref="MoltException">
    /// Forward replication of the FetchId runs or is not stopped (<c>ReplicationOppositeStreamActive</c>, <c>FailbackForwardNotStopped</c>), there is
    /// no position to start from (<c>FailbackNoStartPosition</c>) or no failback slot (<c>FailbackSlotMissing</c>), a table no longer matches
    /// (<c>FailbackTablesChanged</c>), or the stream's errors.
    /// </exception>
    public async Task<ReplicationStatus> RunAsync(IProgress<ReplicationStatus>? status, CancellationToken cancellationToken)
    {
        using (LogContext.PushProperty("FetchId", FetchId))
        {
            // Before the claim, which creates the state tables: a FetchId with nothing to start from leaves the target as it was.
            if (options.StartAt is null && await control.For(ReplicationDirection.Forward).ReadStatusAsync(FetchId, cancellationToken).ConfigureAwait(false) is null)
            {
                throw NoStartPosition(null);
            }

            await using var claim = await control.ClaimAsync(FetchId, cancellationToken).ConfigureAwait(false);
            var start = await StartPositionAsync(cancellationToken).ConfigureAwait(false);
            // Before planning, so that a stop waited for meanwhile does not read the status the stream stopped with last time.
            var streaming = new ReplicationStatus(FetchId, ReplicationState.Streaming, DateTimeOffset.UtcNow) { Direction = ReplicationDirection.Failback, Slot = Slot };
            await control.PublishAsync(streaming, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<TablePlan> plans;
            try
            {
                plans = await PlanAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (MoltException ex)
            {
                await control.PublishAsync(streaming with { State = ReplicationState.Failed, At = DateTimeOffset.UtcNow, Error = ex.Message }, cancellationToken)
                    .ConfigureAwait(false);
                throw;
            }

            var loop = new ReplicationLoop(source.Source, original.Applier, original.Position, control, options.Loop(original.Limits), ReplicationTiming.Default,
                log.Logger);
            try
            {
                var final = await loop.RunClaimedAsync(FetchId, plans, start, Slot, status is null ? null : new Directed(status), cancellationToken)
                    .ConfigureAwait(false);
                return final with { Direction = ReplicationDirection.Failback };
            }
            catch (SourceTableChangedException ex)
            {
                // The change source words it for forward replication (the source changed, change the target): here the
                // table changed on the migration target, and the original is the side to bring level.
                var changed = new MoltException(MoltErrorKind.SchemaMismatch, ex.ErrorId,
                    $"Failback stopped: table {ex.Table} changed on the migration target while its changes were sent back: {ex.Difference}. " +
                    "Nothing written with the change reached the original source; failback's checkpoint there stands.",
                    $"Make the same change on the original's table {ex.Table} (the target's later changes carry it, so undoing it there does not help), then run " +
                    $"Invoke-MoltFailback -FetchId '{FetchId}' again: it goes on from its checkpoint.", ex)
                {
                    Target = ex.Table.ToString(),
                };
                if (await control.ReadStatusAsync(FetchId, cancellationToken).ConfigureAwait(false) is { State: ReplicationState.Failed } failed)
                {
                    await control.PublishAsync(failed with { Error = changed.Message }, cancellationToken).ConfigureAwait(false);
                }

                throw changed;
            }
            catch (MoltException ex) when (ex.ErrorId == "ReplicationSlotNotFound")
            {
                throw new MoltException(MoltErrorKind.NotFound, "FailbackSlotMissing",
                    $"The migration target has no failback slot '{Slot}' for '{FetchId}', so the changes written there since the cutover cannot be read.",
                    "Forward replication makes it when Stop-MoltReplication stops it on a target with wal_level = logical (its warning says why it could not). " +
                    "Without it, load the tables back into the original source instead (Start-MoltBulkLoad from the target).", ex)
                {
                    Target = FetchId,
                };
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await forwardLoad.DisposeAsync().ConfigureAwait(false);
        await source.Source.DisposeAsync().ConfigureAwait(false);
        await original.DisposeAsync().ConfigureAwait(false);
        await state.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Where failback starts: -StartAt, or the target position forward replication recorded when it stopped, which must have stopped.</summary>
    private async Task<SourcePosition> StartPositionAsync(CancellationToken cancellationToken)
    {
        var forward = await control.For(ReplicationDirection.Forward).ReadStatusAsync(FetchId, cancellationToken).ConfigureAwait(false);
        if (forward is { State: not ReplicationState.Stopped })
        {
            throw new MoltException(MoltErrorKind.InvalidState, "FailbackForwardNotStopped",
                $"Replication '{FetchId}' is {forward.State}{(forward.HeldBy is { } holder ? $" ({holder})" : "")}, not stopped: failback would send its changes " +
                "back while it may still apply more, and loses what it has not drained.",
                $"Stop it at the cutover first (Stop-MoltReplication -FetchId '{FetchId}'), then start failback.") { Target = FetchId };
        }

        if (options.StartAt is { } startAt)
        {
            // In the notation of the database failback reads (the migration target).
            return SourcePosition.Parse((await source.Source.ReadCurrentEndAsync(cancellationToken).ConfigureAwait(false)).Notation, startAt);
        }

        return forward?.TargetPosition ?? throw NoStartPosition(forward);
    }

    private MoltException NoStartPosition(ReplicationStatus? forward) =>
        new(MoltErrorKind.NotFound, "FailbackNoStartPosition",
            forward is null
                ? $"The target has no replication '{FetchId}', so it records no position for failback to start from."
                : $"Replication '{FetchId}' recorded no target position when it stopped.",
            "Give the target position to start after (-StartAt), or name the FetchId of the replication that migrated the tables (Get-MoltReplicationStatus).")
        {
            Target = FetchId,
        };

    /// <summary>The forward stream's tables planned again as Resume plans them, each paired with its table on the target now.</summary>
    private async Task<IReadOnlyList<TablePlan>> PlanAsync(CancellationToken cancellationToken)
    {
        var run = await new LoadStateStore(state).FindRunAsync(FetchId, cancellationToken).ConfigureAwait(false)
            ?? throw new MoltException(MoltErrorKind.NotFound, "ReplicationNotFound", $"The target has no replication or load with id '{FetchId}'.",
                "Get-MoltReplicationStatus lists the streams recorded in the target, Get-MoltFetchStatus the loads.") { Target = FetchId };
        var forward = (await forwardLoad.PlanLoadedAsync(run, cancellationToken).ConfigureAwait(false)).Tables.Select(t => t.Plan).ToList();
        var onTarget = await DatabaseRegistry.OpenFailbackCatalog(state).ReadTablesAsync(TableFilter.Of(forward.Select(p => p.Target)), cancellationToken)
            .ConfigureAwait(false);
        var targetDialect = await DatabaseRegistry.FailbackTargetDialectAsync(targetKind, state, cancellationToken).ConfigureAwait(false);
        return await original.PlanAsync(FetchId, forward, onTarget, targetDialect, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The loop's statuses, as failback's.</summary>
    private sealed class Directed(IProgress<ReplicationStatus> inner) : IProgress<ReplicationStatus>
    {
        public void Report(ReplicationStatus value) => inner.Report(value with { Direction = ReplicationDirection.Failback });
    }
}
