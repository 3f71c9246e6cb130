using System.Collections.Concurrent;
using System.Diagnostics;
using Molt.Engine.Replication;
using Molt.Engine.State;
using Serilog;

namespace Molt.Engine.Load;

/// <summary>Callbacks a host receives while a load runs; they are called from worker threads.</summary>
public sealed record BulkLoadCallbacks
{
    public Action<TableProgress>? Progress { get; init; }

    public Action<TableLoadResult>? TableFinished { get; init; }
}

/// <summary>
/// The bulk load: plan the tables (<see cref="LoadPlanner"/>), check the plan's DDL on the target (<see cref="DdlDryRun"/>), prepare the target, copy every table from one source
/// snapshot (<see cref="TableCopier"/>, tables and shards in parallel), then create what comes after the data. State in
/// the target makes it resumable. <paramref name="opened"/> runs from when the session began to connect: a summary's
/// Duration is the run as its user waited for it, connecting and planning included (time at -Confirm prompts is not).
/// </summary>
internal sealed class BulkLoader(ISourceEndpoint source, ILoadTarget target, BulkLoadOptions options, ILogger log, Stopwatch opened)
{
    private readonly LoadTimings timings = new();
    private TimeSpan planning;

    /// <summary>
    /// Reads the source catalog and decides everything the load will do, checking the target before writing anything. A
    /// resumed run is planned with the tables and options it recorded when it started.
    /// </summary>
    public async Task<LoadPlan> PlanAsync(CancellationToken cancellationToken)
    {
        var plan = await new LoadPlanner(source, target, options, timings).PlanAsync(cancellationToken).ConfigureAwait(false);
        planning = opened.Elapsed;
        return plan;
    }

    /// <summary>A recorded run's tables as it loaded them, for the replication that follows it.</summary>
    public Task<LoadPlan> PlanLoadedAsync(LoadRun run, CancellationToken cancellationToken) =>
        new LoadPlanner(source, target, options, timings).PlanLoadedAsync(run, cancellationToken);

    /// <summary>Runs the plan. Tables the host declined (for -Confirm) are left out by the caller before this.</summary>
    public async Task<BulkLoadSummary> ExecuteAsync(LoadPlan plan, BulkLoadCallbacks callbacks, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (!plan.Resuming)
        {
            // Before anything is written, _molt included. A resumed run's tables hold its earlier attempt's rows and
            // post-load objects; that attempt checked the same statements.
            await timings.TimeAsync("DDL check", async () =>
            {
                var reset = await new TableResetPlanner(target, plan.Selection.TableHandling, options.Cascade)
                    .StatementAsync(plan.Reset, plan.Tables.Select(t => t.Plan.Target).ToList(), cancellationToken).ConfigureAwait(false);
                await new DdlDryRun(target, log).CheckAsync(plan, reset, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }

        var copier = new TableCopier(target, options, timings, log);
        var state = new LoadStateStore(target.DataSource);
        await timings.TimeAsync("state schema", () => state.EnsureSchemaAsync(cancellationToken)).ConfigureAwait(false);
        await using var lease = await timings.TimeAsync("run claim", () => RunLease.AcquireAsync(target.DataSource, target.LeaseKind, plan.FetchId, cancellationToken))
            .ConfigureAwait(false);
        // As many readers as shards can read at once, and no more: each is a connection opened and set to the snapshot
        // before the first COPY (and, on MySQL/MariaDB, under the global read lock).
        var readers = Math.Clamp(plan.Tables.Count, 1, Math.Max(1, options.TableConcurrency)) * Math.Max(1, options.ShardsPerTable);
        await using var snapshot = await timings.TimeAsync("snapshot", () => source.OpenSnapshotAsync(readers, cancellationToken)).ConfigureAwait(false);
        var position = await timings.TimeAsync("run record", () => StartRunAsync(state, plan, snapshot.Position, cancellationToken)).ConfigureAwait(false);

        var results = new ConcurrentBag<TableLoadResult>();
        try
        {
            await using var fileServer = options.Import is { ListenAddress: { } listen } import ? target.ServeImportFiles(import.Directory, listen) : null;
            var prepared = await timings.TimeAsync("table DDL", () => PrepareTablesAsync(state, plan, cancellationToken)).ConfigureAwait(false);
            var tablesClock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(prepared,
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.TableConcurrency), CancellationToken = cancellationToken },
                async (table, ct) =>
                {
                    var result = await copier.LoadTableAsync(state, plan.FetchId, table, snapshot, callbacks, ct).ConfigureAwait(false);
                    results.Add(result);
                    if (result.Status != TableLoadStatus.Interrupted)
                    {
                        callbacks.TableFinished?.Invoke(result);
                    }
                }).ConfigureAwait(false);
            timings.Add("tables (wall)", tablesClock.Elapsed);
            await timings.TimeAsync("post-load DDL", () => new PostLoadRunner(target.DataSource, state, log).RunAsync(plan, results, cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested)
        {
            // Whatever the cancellation surfaced as (a driver's error for the query it cancelled included), the run was
            // interrupted, and says so: a run left "running" would read as abandoned.
            await state.SetRunStatusAsync(plan.FetchId, RunStatus.Interrupted, finished: false, CancellationToken.None).ConfigureAwait(false);
            log.Warning("Load {FetchId} interrupted; continue it with: {Command:l}", plan.FetchId, ResumeCommand(plan.FetchId));
            if (ex is OperationCanceledException)
            {
                throw;
            }

            throw new OperationCanceledException("The load was cancelled.", ex, cancellationToken);
        }
        catch
        {
            await state.SetRunStatusAsync(plan.FetchId, RunStatus.Failed, finished: true, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var outcome = await timings.TimeAsync("run finish", async () =>
        {
            var finished = RunOutcome.Of(plan.Selection.Tables, await state.ReadShardsAsync(plan.FetchId, null, CancellationToken.None).ConfigureAwait(false), results);
            await state.SetRunStatusAsync(plan.FetchId, finished.Status, finished: true, CancellationToken.None).ConfigureAwait(false);
            return finished;
        }).ConfigureAwait(false);
        var duration = planning + clock.Elapsed;
        log.Information("Load {FetchId} took {Seconds:F2} s: {Phases:l}", plan.FetchId, duration.TotalSeconds, timings.Describe());
        if (outcome.PendingTables.Count > 0)
        {
            log.Warning("Load {FetchId} is not finished: {Tables:l} not loaded (declined, or not attempted); continue it with: {Command:l}",
                plan.FetchId, string.Join(", ", outcome.PendingTables), ResumeCommand(plan.FetchId));
        }

        return new BulkLoadSummary(plan.FetchId, outcome.Status, position, results.Count, results.Sum(r => r.Rows), results.Sum(r => r.Bytes), duration,
            outcome.FailedTables)
        {
            PendingTables = outcome.PendingTables,
            NotCarried = plan.NotCarried,
            RowsBefore = results.Sum(r => r.RowsBefore),
            Phases = timings.Phases(),
        };
    }

    /// <summary>What a user types to continue a run: its selection is recorded in the target, so the endpoints and id are all it takes.</summary>
    private string ResumeCommand(string fetchId) =>
        $"Start-MoltBulkLoad -Source '{Quoted(target.SourceDisplay)}' -Target '{Quoted(target.Display)}' -FetchId '{Quoted(fetchId)}' -Resume" +
        " (with the same -SourceCredential and -TargetCredential)";

    private static string Quoted(string text) => text.Replace("'", "''");

    private async Task<SourcePosition> StartRunAsync(LoadStateStore state, LoadPlan plan, SourcePosition position, CancellationToken cancellationToken)
    {
        var existing = await state.FindRunAsync(plan.FetchId, cancellationToken).ConfigureAwait(false);
        var recorded = RecordedPosition.Of(position);
        if (existing is null)
        {
            // The run's state is written whole or not at all, never cut off by Ctrl+C halfway into a run no one finishes.
            await state.CreateRunAsync(new LoadRun(plan.FetchId, DateTimeOffset.UtcNow, target.SourceDisplay, source.DisplayName, RunStatus.Running,
                recorded.Value, recorded.GtidSet, plan.Selection.TableHandling.ToString()) { Selection = plan.Selection }, CancellationToken.None).ConfigureAwait(false);
            return position;
        }

        if (!plan.Resuming)
        {
            throw new MoltException(MoltErrorKind.InvalidState, "FetchIdInUse", $"The target already has a load run with id '{plan.FetchId}'.",
                "Add -Resume to continue it, or choose another -FetchId (or none, and Molt picks one).") { Target = plan.FetchId };
        }

        // Shards redone now read a later snapshot than the first attempt; replication must start from the earliest
        // position, whose changes it re-applies idempotently, so the run keeps its original one.
        await state.SetRunStatusAsync(plan.FetchId, RunStatus.Running, finished: false, CancellationToken.None).ConfigureAwait(false);
        log.Information("Resuming load {FetchId}; replication position stays {Position}", plan.FetchId, existing.SnapshotPosition);
        return new RecordedPosition(existing.SnapshotPosition ?? recorded.Value, existing.GtidSet).ToPosition(position);
    }

    /// <summary>
    /// Empties or drops the tables not loaded yet in one statement, then runs each one's DDL, one statement at a time
    /// (types shared by tables must not be created twice at once).
    /// </summary>
    private async Task<List<PlannedTable>> PrepareTablesAsync(LoadStateStore state, LoadPlan plan, CancellationToken cancellationToken)
    {
        var recorded = plan.Resuming
            ? (await state.ReadShardsAsync(plan.FetchId, null, cancellationToken).ConfigureAwait(false)).Select(s => s.SourceTable).ToHashSet()
            : [];
        var unprepared = plan.Tables.Where(t => !recorded.Contains(t.Plan.Source.Name.ToString())).ToList();
        // A resumed run empties or drops by its recorded table handling, whatever this invocation defaulted to.
        var reset = await new TableResetPlanner(target, plan.Selection.TableHandling, options.Cascade).StatementAsync(plan.Reset, unprepared.Select(t => t.Plan.Target).ToList(), cancellationToken)
            .ConfigureAwait(false);
        await using var connection = await target.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var ddl = new TargetDdl(state, log);
        foreach (var sql in (reset is null ? [] : new[] { reset }).Concat(unprepared.SelectMany(t => t.PreLoad)))
        {
            await ddl.ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);
        }

        return plan.Tables.ToList();
    }
}
