using Molt.Engine.Schema;
using Molt.Engine.State;

namespace Molt.Engine.Load;

/// <summary>
/// Decides everything a load will do, checking the options and the target before anything is written: the tables and
/// their target DDL, row filters, and the one statement that empties or drops them.
/// </summary>
internal sealed class LoadPlanner(ISourceEndpoint source, ILoadTarget target, BulkLoadOptions options, LoadTimings timings)
{
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
                await ReadTablesAsync(options.Filter, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }

        var run = await FindResumedRunAsync(cancellationToken).ConfigureAwait(false);
        if (run.Selection is not { } recorded)
        {
            // A run recorded before Molt kept its selection continues with this invocation's.
            CheckOptions();
            return await PlanTablesAsync(run.FetchId, resuming: true,
                await ReadTablesAsync(options.Filter, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }

        var differences = ResumedSelection.OptionDifferences(recorded, options);
        var resumed = new LoadPlanner(source, target, recorded.ApplyTo(options), timings);
        resumed.CheckOptions();
        var tablesGiven = options.GivenSelection.HasFlag(SelectionParts.Tables);
        var tables = await ReadTablesAsync(tablesGiven ? options.Filter : recorded.Filter, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// The tables of the recorded run <paramref name="run"/> planned again as it loaded them, whatever its status: what a
    /// replication that follows the load applies changes to. Nothing is emptied or created (the tables must be on the
    /// target as the load left them, which the target schema check verifies).
    /// </summary>
    /// <exception cref="MoltException">The run predates recorded selections, or its tables are missing from the source or target.</exception>
    public async Task<LoadPlan> PlanLoadedAsync(LoadRun run, CancellationToken cancellationToken)
    {
        var recorded = run.Selection ?? throw new MoltException(MoltErrorKind.InvalidState, "FetchRunSelectionMissing",
            $"Load run '{run.FetchId}' was recorded before Molt kept a run's tables and options, so its tables cannot be planned again.",
            "Start a new replication (Start-MoltReplication).") { Target = run.FetchId };
        var loaded = new LoadPlanner(source, target, recorded.ApplyTo(options) with { FetchId = run.FetchId, Resume = true, TableHandling = TableHandling.None }, timings);
        var tables = await ReadTablesAsync(recorded.Filter, cancellationToken).ConfigureAwait(false);
        return await loaded.PlanTablesAsync(run.FetchId, resuming: true, ResumedSelection.RecordedTables(run.FetchId, recorded, tables), cancellationToken)
            .ConfigureAwait(false);
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

        if (options.DeferPrimaryKey == true && options.TableHandling != TableHandling.DropAndRecreate)
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

        if (options.DeferPrimaryKey == true && !target.Dialect.CanDeferPrimaryKey)
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
        var plans = await timings.TimeAsync("source plan review", () => source.ReviewPlansAsync(PlanTables(tables), options.TableHandling, cancellationToken))
            .ConfigureAwait(false);
        if (options.TableHandling != TableHandling.DropAndRecreate)
        {
            await timings.TimeAsync("target schema check", () => TargetSchemaCheck.EnsureCompatibleAsync(target.DataSource, plans, cancellationToken)).ConfigureAwait(false);
        }

        var timing = new PrimaryKeyTiming(options, target.Dialect, resuming);
        var planned = plans.Select(plan => (Plan: plan, Key: timing.Choose(plan))).Select(p => new PlannedTable(p.Plan, WhereFor(p.Plan.Source.Name),
            PreLoadStatements(p.Plan, p.Key?.AfterLoad == true),
            options.TableHandling == TableHandling.DropAndRecreate ? target.Dialect.PostLoadStatements(p.Plan, ByName(plans)) : [])
        {
            PrimaryKeyAfterLoad = p.Key is { AfterLoad: true } or { AddedIfMissing: true } ? target.Dialect.AddPrimaryKey(p.Plan) : null,
            PrimaryKey = p.Key,
            Warning = p.Plan.Source.HasPrimaryKey ? null
                : $"Table {p.Plan.Source.Name} has no primary key: it is loaded as one shard, and replication and verification will need a key." +
                  (target.Dialect.GivesKeylessTablesHiddenRowId ? $" {target.Dialect.DisplayName} gives it a hidden rowid primary key." : ""),
        }).ToList();
        var reset = await timings.TimeAsync("target dependents", () => Resets(options.TableHandling).PlanAsync(planned.Select(t => t.Plan.Target).ToList(), cancellationToken))
            .ConfigureAwait(false);
        return new LoadPlan(fetchId, resuming, planned, target.Dialect.DisplayName, options.SelectionOf(plans.Select(p => p.Source.Name)))
        {
            Reset = reset,
            ChecksDdlFirst = !resuming && target.Dialect.ChecksDdlInRolledBackTransaction,
        };
    }

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

    private Task<IReadOnlyList<TableModel>> ReadTablesAsync(TableFilter filter, CancellationToken cancellationToken) =>
        timings.TimeAsync("source catalog", () => source.Catalog.ReadTablesAsync(filter, cancellationToken));

    private TableName TargetName(TableName name) =>
        source.Syntax == SqlSyntax.MySql ? new TableName(options.TargetSchema, options.IdentifierCase.Apply(name.Name)) : name;

    private static Dictionary<TableName, TablePlan> ByName(IEnumerable<TablePlan> plans) => plans.ToDictionary(p => p.Source.Name);

    private string? WhereFor(TableName table) => new RowFilters(options.Where).For(table);

    /// <summary>A table's own DDL; the DROP or TRUNCATE is one statement over all tables (<see cref="TableReset"/>), run before any of this.</summary>
    private List<string> PreLoadStatements(TablePlan plan, bool deferPrimaryKey) => options.TableHandling == TableHandling.DropAndRecreate
        ? [.. target.Dialect.CreateSupportingTypes(plan), target.Dialect.CreateTable(plan, deferPrimaryKey)]
        : [];

    private TableResetPlanner Resets(TableHandling handling) => new(target, handling, options.Cascade);
}
