using System.Collections.Concurrent;
using System.Diagnostics;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Npgsql;
using Serilog;

namespace Molt.Engine.Load;

/// <summary>Callbacks a host receives while a load runs; they are called from worker threads.</summary>
public sealed record BulkLoadCallbacks
{
    public Action<TableProgress>? Progress { get; init; }

    public Action<TableLoadResult>? TableFinished { get; init; }
}

/// <summary>
/// The bulk load: plan the tables, prepare the target, copy every shard of every table from one source snapshot
/// (tables and shards in parallel), then create what comes after the data. State in the target makes it resumable.
/// </summary>
public sealed class BulkLoader(ISourceEndpoint source, ILoadTarget target, BulkLoadOptions options, ILogger log)
{
    /// <summary>Bounds the shard rows kept in _molt.fetch_shards however small the target's transaction limit.</summary>
    private const int MaxShardsPerTable = 10_000;

    /// <summary>
    /// Reads the source catalog and decides everything the load will do, checking the target before writing anything. A
    /// resumed run is planned with the tables and options it recorded when it started.
    /// </summary>
    public async Task<LoadPlan> PlanAsync(CancellationToken cancellationToken)
    {
        if (!options.Resume)
        {
            CheckOptions();
            return await PlanTablesAsync(options.FetchId ?? Guid.NewGuid().ToString("D"), resuming: false,
                await source.Catalog.ReadTablesAsync(options.Filter, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }

        var run = await FindResumedRunAsync(cancellationToken).ConfigureAwait(false);
        if (run.Selection is not { } recorded)
        {
            // A run recorded before Molt kept its selection continues with this invocation's.
            CheckOptions();
            return await PlanTablesAsync(run.FetchId, resuming: true,
                await source.Catalog.ReadTablesAsync(options.Filter, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }

        var differences = ResumedSelection.OptionDifferences(recorded, options);
        var resumed = new BulkLoader(source, target, recorded.ApplyTo(options), log);
        resumed.CheckOptions();
        var tablesGiven = options.GivenSelection.HasFlag(SelectionParts.Tables);
        var tables = await source.Catalog.ReadTablesAsync(tablesGiven ? options.Filter : recorded.Filter, cancellationToken).ConfigureAwait(false);
        if (tablesGiven && ResumedSelection.TableDifference(recorded, tables.Select(t => t.Name), options.Filter) is { } tableDifference)
        {
            differences.Insert(0, tableDifference);
        }

        if (differences.Count > 0)
        {
            throw ResumedSelection.Differs(run.FetchId, differences);
        }

        return await resumed.PlanTablesAsync(run.FetchId, resuming: true, ResumedSelection.RecordedTables(run.FetchId, recorded, tables), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Runs the plan. Tables the host declined (for -Confirm) are left out by the caller before this.</summary>
    public async Task<BulkLoadSummary> ExecuteAsync(LoadPlan plan, BulkLoadCallbacks callbacks, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var state = new LoadStateStore(target.DataSource);
        await state.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var lease = await RunLease.AcquireAsync(target.DataSource, target.LeaseKind, plan.FetchId, cancellationToken).ConfigureAwait(false);
        var readers = Math.Max(1, options.TableConcurrency) * Math.Max(1, options.ShardsPerTable);
        await using var snapshot = await source.OpenSnapshotAsync(readers, cancellationToken).ConfigureAwait(false);
        var position = await StartRunAsync(state, plan, snapshot.Position, cancellationToken).ConfigureAwait(false);

        var results = new ConcurrentBag<TableLoadResult>();
        try
        {
            await using var fileServer = options.Import is { ListenAddress: { } listen } import ? target.ServeImportFiles(import.Directory, listen) : null;
            var prepared = await PrepareTablesAsync(state, plan, cancellationToken).ConfigureAwait(false);
            await Parallel.ForEachAsync(prepared,
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.TableConcurrency), CancellationToken = cancellationToken },
                async (table, ct) =>
                {
                    var result = await LoadTableAsync(state, plan.FetchId, table, snapshot, callbacks, ct).ConfigureAwait(false);
                    results.Add(result);
                    if (result.Status != TableLoadStatus.Interrupted)
                    {
                        callbacks.TableFinished?.Invoke(result);
                    }
                }).ConfigureAwait(false);
            await new PostLoadRunner(target.DataSource, state, log).RunAsync(plan, results, cancellationToken).ConfigureAwait(false);
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

        var outcome = RunOutcome.Of(plan.Selection.Tables, await state.ReadShardsAsync(plan.FetchId, null, CancellationToken.None).ConfigureAwait(false), results);
        await state.SetRunStatusAsync(plan.FetchId, outcome.Status, finished: true, CancellationToken.None).ConfigureAwait(false);
        if (outcome.PendingTables.Count > 0)
        {
            log.Warning("Load {FetchId} is not finished: {Tables:l} not loaded (declined, or not attempted); continue it with: {Command:l}",
                plan.FetchId, string.Join(", ", outcome.PendingTables), ResumeCommand(plan.FetchId));
        }

        return new BulkLoadSummary(plan.FetchId, outcome.Status, position, results.Count, results.Sum(r => r.Rows), results.Sum(r => r.Bytes), clock.Elapsed,
            outcome.FailedTables)
        {
            PendingTables = outcome.PendingTables,
            RowsBefore = results.Sum(r => r.RowsBefore),
        };
    }

    /// <summary>Refuses options that cannot work together or with these endpoints, before anything is read or written.</summary>
    private void CheckOptions()
    {
        if (options.IdentifierCase != IdentifierCase.Preserve && source.Syntax != SqlSyntax.MySql)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "IdentifierCaseNeedsMySqlSource",
                "A PostgreSQL source's names are copied as they are: its expressions, defaults and index definitions name them.",
                "Leave -IdentifierCase out for a PostgreSQL source.");
        }

        if (options.Import is not null && !target.Dialect.SupportsImportInto)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "ImportIntoNotSupported",
                $"IMPORT INTO is CockroachDB's; the target is {target.Dialect.DisplayName}, which loads with COPY.",
                "Leave -ImportPath, -ImportUrl and -ImportListenAddress out for this target.");
        }

        if (options.DeferPrimaryKey && options.TableHandling != TableHandling.DropAndRecreate)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "DeferPrimaryKeyNeedsRecreate",
                "-DeferPrimaryKey changes how tables are created, and only -TableHandling DropAndRecreate creates them.",
                "Add -TableHandling DropAndRecreate, or leave -DeferPrimaryKey out.");
        }

        if (options.Cascade && options.TableHandling == TableHandling.None)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "CascadeNeedsTableHandling",
                "-Cascade says what emptying or dropping the target tables may also remove, and -TableHandling None does neither.",
                "Add -TableHandling TruncateIfExists or DropAndRecreate, or leave -Cascade out.");
        }

        if (options.DeferPrimaryKey && !target.Dialect.CanDeferPrimaryKey)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "DeferPrimaryKeyNotSupported",
                $"{target.Dialect.DisplayName} stores a table's rows by its primary key, so the key must be declared with the table; adding it later rewrites the table.",
                $"Leave -DeferPrimaryKey out when the target is {target.Dialect.DisplayName}.");
        }
    }

    private async Task<LoadPlan> PlanTablesAsync(string fetchId, bool resuming, IReadOnlyList<TableModel> tables, CancellationToken cancellationToken)
    {
        if (tables.Count == 0)
        {
            throw new MoltException(MoltErrorKind.NotFound, "NoTablesMatched", $"No source table matches {options.Filter}.",
                "Check -Schema, -Table and -ExcludeTable (wildcards such as 'film*' are allowed; names are matched without regard to case).");
        }

        new RowFilters(options.Where).EnsureEachNamesOneOf(tables.Select(t => t.Name).ToList());
        var plans = await source.ReviewPlansAsync(PlanTables(tables), options.TableHandling, cancellationToken).ConfigureAwait(false);
        if (options.TableHandling != TableHandling.DropAndRecreate)
        {
            await TargetSchemaCheck.EnsureCompatibleAsync(target.DataSource, plans, cancellationToken).ConfigureAwait(false);
        }

        var planned = plans.Select(plan => new PlannedTable(plan, WhereFor(plan.Source.Name), PreLoadStatements(plan),
            options.TableHandling == TableHandling.DropAndRecreate ? target.Dialect.PostLoadStatements(plan, TargetNames(plans)) : [])
        {
            PrimaryKeyAfterLoad = options.DeferPrimaryKey && options.TableHandling == TableHandling.DropAndRecreate ? target.Dialect.AddPrimaryKey(plan) : null,
            Warning = plan.Source.HasPrimaryKey ? null
                : $"Table {plan.Source.Name} has no primary key: it is loaded as one shard, and replication and verification will need a key." +
                  (target.Dialect.GivesKeylessTablesHiddenRowId ? $" {target.Dialect.DisplayName} gives it a hidden rowid primary key." : ""),
        }).ToList();
        var reset = await Resets(options.TableHandling).PlanAsync(planned.Select(t => t.Plan.Target).ToList(), cancellationToken).ConfigureAwait(false);
        return new LoadPlan(fetchId, resuming, planned, target.Dialect.DisplayName, options.SelectionOf(plans.Select(p => p.Source.Name)))
        {
            Reset = reset,
        };
    }

    /// <summary>What a user types to continue a run: its selection is recorded in the target, so the endpoints and id are all it takes.</summary>
    private string ResumeCommand(string fetchId) =>
        $"Start-MoltBulkLoad -Source '{Quoted(target.SourceDisplay)}' -Target '{Quoted(target.Display)}' -FetchId '{Quoted(fetchId)}' -Resume" +
        " (with the same -SourceCredential and -TargetCredential)";

    private static string Quoted(string text) => text.Replace("'", "''");

    private async Task<LoadRun> FindResumedRunAsync(CancellationToken cancellationToken)
    {
        if (options.FetchId is null)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "ResumeNeedsFetchId", "-Resume continues an earlier run and needs its -FetchId.",
                "Get-MoltFetchStatus lists the runs recorded in the target, with their ids.");
        }

        var run = await new LoadStateStore(target.DataSource).FindRunAsync(options.FetchId, cancellationToken).ConfigureAwait(false)
            ?? throw new MoltException(MoltErrorKind.NotFound, "FetchRunNotFound", $"The target has no load run with id '{options.FetchId}'.",
                "Get-MoltFetchStatus lists the runs recorded in the target, with their ids.") { Target = options.FetchId };
        if (run.Status == RunStatus.Succeeded)
        {
            throw new MoltException(MoltErrorKind.InvalidState, "FetchRunAlreadySucceeded", $"The load run '{run.FetchId}' already finished successfully.",
                "Nothing is left to resume; start a new run without -Resume to load again.") { Target = run.FetchId };
        }

        return run;
    }

    private List<TablePlan> PlanTables(IReadOnlyList<TableModel> tables)
    {
        var plans = new List<TablePlan>();
        var errors = new List<MoltException>();
        foreach (var table in tables)
        {
            try
            {
                plans.Add(TablePlanner.Plan(table, TargetName(table.Name), target.Dialect, source.Syntax, options.TypeMap, options.IdentifierCase));
            }
            catch (MoltException ex) when (ex.Kind is MoltErrorKind.UnsupportedType or MoltErrorKind.SchemaMismatch)
            {
                errors.Add(ex);
            }
        }

        return errors.Count switch
        {
            0 => plans,
            1 => throw errors[0],
            _ when errors.All(e => e.Kind == MoltErrorKind.UnsupportedType) => throw new MoltException(MoltErrorKind.UnsupportedType, "UnsupportedColumnTypes",
                "Some columns have no type mapping:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e.Message)),
                "Add the entries shown to a -TypeMapFile, or leave those tables out with -ExcludeTable."),
            _ => throw new MoltException(MoltErrorKind.SchemaMismatch, "TablesCannotBeLoaded",
                "Some tables cannot be loaded as they are:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e.Message)),
                string.Join(Environment.NewLine, errors.Select(e => e.Remedy).Where(r => r is not null).Distinct())),
        };
    }

    private TableName TargetName(TableName name) =>
        source.Syntax == SqlSyntax.MySql ? new TableName(options.TargetSchema, options.IdentifierCase.Apply(name.Name)) : name;

    private static Dictionary<TableName, TableName> TargetNames(IEnumerable<TablePlan> plans) => plans.ToDictionary(p => p.Source.Name, p => p.Target);

    private string? WhereFor(TableName table) => new RowFilters(options.Where).For(table);

    /// <summary>A table's own DDL; the DROP or TRUNCATE is one statement over all tables (<see cref="TableReset"/>), run before any of this.</summary>
    private List<string> PreLoadStatements(TablePlan plan) => options.TableHandling == TableHandling.DropAndRecreate
        ? [.. target.Dialect.CreateSupportingTypes(plan), target.Dialect.CreateTable(plan, options.DeferPrimaryKey)]
        : [];

    private TableResetPlanner Resets(TableHandling handling) => new(target, handling, options.Cascade);

    private async Task<SnapshotPosition> StartRunAsync(LoadStateStore state, LoadPlan plan, SnapshotPosition position, CancellationToken cancellationToken)
    {
        var existing = await state.FindRunAsync(plan.FetchId, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            // The run's state is written whole or not at all, never cut off by Ctrl+C halfway into a run no one finishes.
            await state.CreateRunAsync(new LoadRun(plan.FetchId, DateTimeOffset.UtcNow, target.SourceDisplay, source.DisplayName, RunStatus.Running,
                position.Value, position.GtidSet, plan.Selection.TableHandling.ToString()) { Selection = plan.Selection }, CancellationToken.None).ConfigureAwait(false);
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
        return new SnapshotPosition(existing.SnapshotPosition ?? position.Value) { GtidSet = existing.GtidSet };
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
        var reset = await Resets(plan.Selection.TableHandling).StatementAsync(plan.Reset, unprepared.Select(t => t.Plan.Target).ToList(), cancellationToken)
            .ConfigureAwait(false);
        await using var connection = await target.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var sql in (reset is null ? [] : new[] { reset }).Concat(unprepared.SelectMany(t => t.PreLoad)))
        {
            log.Debug("Target: {Sql}", sql);
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return plan.Tables.ToList();
    }

    private async Task<TableLoadResult> LoadTableAsync(LoadStateStore state, string fetchId, PlannedTable table, ISourceSnapshot snapshot,
        BulkLoadCallbacks callbacks, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var plan = table.Plan;
        var name = plan.Source.Name;
        if (table.Warning is not null)
        {
            log.Warning("{Warning:l}", table.Warning);
        }

        IReadOnlyList<ShardState> shards = [];
        var progress = new TableCounter(0, 0);
        var errors = new ConcurrentQueue<string>();
        void Report((long Rows, long Bytes) sofar) =>
            callbacks.Progress?.Invoke(new TableProgress(name, sofar.Rows, plan.Source.EstimatedRows, sofar.Bytes, clock.Elapsed) { RowsBefore = progress.RowsBefore });
        try
        {
            shards = await state.ReadShardsAsync(fetchId, name.ToString(), cancellationToken).ConfigureAwait(false);
            if (shards.Count == 0)
            {
                shards = await state.RecordShardsAsync(fetchId, name.ToString(), plan.Target.ToString(),
                    await SplitAsync(plan.Source, table.Where, snapshot, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }

            progress = new TableCounter(shards.Where(s => s.IsDone).Sum(s => s.Rows), shards.Where(s => s.IsDone).Sum(s => s.Bytes));
            log.Information("Loading {Table} into {Target}: {Shards} shards, {Done} already done", name, plan.Target, shards.Count, shards.Count(s => s.IsDone));
            if (options.Import is { } import)
            {
                var error = await new TableImporter(target, import, log).ImportAsync(state, fetchId, table, shards, snapshot, options.ShardsPerTable,
                    (rows, bytes) => Report(progress.Add(rows, bytes)), cancellationToken).ConfigureAwait(false);
                if (error is not null)
                {
                    errors.Enqueue(error);
                }
            }
            else
            {
                await Parallel.ForEachAsync(shards.Where(s => !s.IsDone),
                    new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.ShardsPerTable), CancellationToken = cancellationToken },
                    async (shard, ct) =>
                    {
                        var error = await LoadShardAsync(state, fetchId, table, shard, snapshot, progress, clock, callbacks, ct).ConfigureAwait(false);
                        if (error is not null)
                        {
                            errors.Enqueue(error);
                        }
                    }).ConfigureAwait(false);
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled while splitting, or while its shards load (each records itself interrupted).
            return new TableLoadResult(fetchId, name, plan.Target, progress.Rows, progress.Bytes, clock.Elapsed, TableLoadStatus.Interrupted,
                "interrupted", shards.Count) { RowsBefore = progress.RowsBefore };
        }

        if (errors.IsEmpty && table.PrimaryKeyAfterLoad is { } addKey)
        {
            await AddPrimaryKeyAsync(state, fetchId, name, addKey, errors, cancellationToken).ConfigureAwait(false);
        }

        var status = errors.IsEmpty ? TableLoadStatus.Succeeded : TableLoadStatus.Failed;
        log.Information("{Table}: {Status}, {Rows} rows in {Seconds:F1} s", name, status, progress.Rows, clock.Elapsed.TotalSeconds);
        if (status == TableLoadStatus.Succeeded && progress.Rows == 0 && plan.Source.EstimatedRows > 0)
        {
            log.Warning("{Table} loaded no rows, though the source's statistics estimate {Estimate} rows: check its -Where filter ({Where:l}) and that -Source names the right source database (or the statistics are stale)",
                name, plan.Source.EstimatedRows, table.Where ?? "none");
        }

        return new TableLoadResult(fetchId, name, plan.Target, progress.Rows, progress.Bytes, clock.Elapsed, status,
            errors.IsEmpty ? null : string.Join("; ", errors), shards.Count) { RowsBefore = progress.RowsBefore };
    }

    /// <summary>
    /// Enough shards to use the table's readers, few enough that none is tiny; more where the target caps the rows of one
    /// transaction. The catalog's estimate of the rows is used where there is one and the target sets no cap; otherwise
    /// the rows are counted in the snapshot, as a missing estimate (a table never analysed) or a stale one would make
    /// shards too large to commit. A source may still read a key type it cannot split as one range (see its SplitAsync).
    /// </summary>
    private async Task<IReadOnlyList<KeyRange>> SplitAsync(TableModel table, string? where, ISourceSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (!table.HasPrimaryKey)
        {
            return [KeyRange.All];
        }

        var limit = target.Dialect.MaxRowsPerTransaction;
        var rows = limit is null && table.EstimatedRows > 0
            ? table.EstimatedRows
            : await snapshot.CountRowsAsync(table, where, cancellationToken).ConfigureAwait(false);
        var shards = (int)Math.Clamp(rows / Math.Max(1, options.MinRowsPerShard), 1, Math.Max(1, options.ShardsPerTable));
        if (limit is { } cap)
        {
            shards = (int)Math.Min(Math.Max(shards, (rows + cap - 1) / cap), MaxShardsPerTable);
        }

        return await snapshot.SplitAsync(table, shards, rows, where, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loads one shard; returns its error, or null. Cancellation marks it interrupted and propagates.</summary>
    private async Task<string?> LoadShardAsync(LoadStateStore state, string fetchId, PlannedTable table, ShardState shard, ISourceSnapshot snapshot,
        TableCounter counter, Stopwatch clock, BulkLoadCallbacks callbacks, CancellationToken cancellationToken)
    {
        var plan = table.Plan;
        var sourceTable = plan.Source.Name.ToString();
        var before = (Rows: 0L, Bytes: 0L);
        void Report(ShardCopyResult sofar)
        {
            var (rows, bytes) = counter.Add(sofar.Rows - before.Rows, sofar.Bytes - before.Bytes);
            before = (sofar.Rows, sofar.Bytes);
            callbacks.Progress?.Invoke(new TableProgress(plan.Source.Name, rows, plan.Source.EstimatedRows, bytes, clock.Elapsed) { RowsBefore = counter.RowsBefore });
        }

        try
        {
            // A serialization failure (CockroachDB's 40001) aborts the whole shard transaction: the shard is read again from
            // the same snapshot and copied again.
            var (result, attempts) = await target.Retry.RunAsync(async ct =>
            {
                counter.Add(-before.Rows, -before.Bytes);
                before = (0, 0);
                await using var data = await snapshot.ReadAsync(plan, shard.Range, table.Where, ct).ConfigureAwait(false);
                return await target.Writer.CopyAsync(plan, data,
                    (connection, copied) => LoadStateStore.MarkShardDoneAsync(connection, fetchId, sourceTable, shard.Shard, copied.Rows, copied.Bytes, ct),
                    Report, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            if (attempts > 1)
            {
                log.Information("{Table:l} shard {Shard} was copied on attempt {Attempts} after serialization failures", sourceTable, shard.Shard, attempts);
            }

            Report(result);
            return null;
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C reaches a shard as OperationCanceledException, or as the error a driver makes of the query or
            // connection it cancelled (a COPY ended under it, "Query execution was interrupted", a stream cut short): either
            // way the shard was interrupted, not failed, and is loaded again on resume.
            counter.Add(-before.Rows, -before.Bytes);
            await state.MarkShardFailedAsync(fetchId, sourceTable, shard.Shard, ShardStatus.Interrupted, "interrupted", CancellationToken.None).ConfigureAwait(false);
            if (ex is OperationCanceledException)
            {
                throw;
            }

            log.Debug(ex, "{Table:l} shard {Shard} was interrupted", sourceTable, shard.Shard);
            throw new OperationCanceledException("The load was cancelled.", ex, cancellationToken);
        }
        catch (Exception ex) when (ShardFailure.IsShardFailure(ex))
        {
            counter.Add(-before.Rows, -before.Bytes);
            var failure = ShardFailure.From(ex);
            log.Error("{Table:l} shard {Shard} ({Range}) failed: {Error:l}", sourceTable, shard.Shard, shard.Range, failure.Message);
            await state.MarkShardFailedAsync(fetchId, sourceTable, shard.Shard, ShardStatus.Failed, failure.Message, CancellationToken.None).ConfigureAwait(false);
            await state.RecordExceptionAsync(new LoadException(fetchId, sourceTable, shard.Shard, LoadStage.DataLoad, failure.SqlState, failure.Message,
                failure.RowKey), CancellationToken.None).ConfigureAwait(false);
            return failure.Message;
        }
    }

    private async Task AddPrimaryKeyAsync(LoadStateStore state, string fetchId, TableName table, string sql, ConcurrentQueue<string> errors,
        CancellationToken cancellationToken)
    {
        try
        {
            log.Debug("Target: {Sql}", sql);
            await using var connection = await target.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var message = $"primary key not added: {ex.MessageText}";
            log.Error("{Table:l}: {Message:l}", table, message);
            errors.Enqueue(message);
            await state.RecordExceptionAsync(new LoadException(fetchId, table.ToString(), null, LoadStage.PostLoad, ex.SqlState, message, null),
                CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Rows and bytes of one table, summed over its shards from several threads, from those earlier attempts loaded.</summary>
    private sealed class TableCounter(long rows, long bytes)
    {
        private long rows = rows;
        private long bytes = bytes;

        public long RowsBefore { get; } = rows;

        public long Rows => Interlocked.Read(ref rows);

        public long Bytes => Interlocked.Read(ref bytes);

        public (long Rows, long Bytes) Add(long addedRows, long addedBytes) =>
            (Interlocked.Add(ref rows, addedRows), Interlocked.Add(ref bytes, addedBytes));
    }
}
