using System.Collections;
using System.Management.Automation;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.State;
using Molt.PowerShell.Completion;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// A cmdlet that loads tables from the source into the target (Start-MoltBulkLoad, and replication's initial load):
/// what to select, what to do with the target tables, how to copy; the options the engine takes from them; asking
/// before the plan runs; and the load's progress and table results.
/// </summary>
public abstract class MoltLoadCmdlet : MoltRunCmdlet
{
    /// <summary>Source schemas to load (wildcards). A MySQL/MariaDB database is its schema.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SourceSchemaCompleter))]
    public string[]? Schema { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SourceTableCompleter))]
    public string[]? Table { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SourceTableCompleter))]
    public string[]? ExcludeTable { get; set; }

    [Parameter]
    public Molt.TableHandling TableHandling { get; set; } = Molt.TableHandling.None;

    /// <summary>
    /// With -TableHandling DropAndRecreate or TruncateIfExists: drop or empty the target tables without asking, for
    /// scripts. -WhatIf still only prints the plan; an explicit -Confirm still asks.
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>
    /// With -TableHandling: also remove what lies outside the selected tables (TRUNCATE/DROP ... CASCADE): tables whose
    /// foreign keys reference them are emptied; other tables' foreign keys and views on them are dropped. Each is named.
    /// </summary>
    [Parameter]
    public SwitchParameter Cascade { get; set; }

    /// <summary>A JSON file of column type overrides (MOLT Fetch's type-map format).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TypeMapFile { get; set; }

    /// <summary>Row filters: @{ 'public.rental' = 'rental_date >= ''2022-01-01''' }, predicates in the source's SQL.</summary>
    [Parameter]
    public Hashtable? Where { get; set; }

    [Parameter]
    [ValidateRange(1, 64)]
    public int TableConcurrency { get; set; } = 4;

    [Parameter]
    [ValidateRange(1, 64)]
    public int ShardsPerTable { get; set; } = BulkLoadOptions.DefaultShardsPerTable;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(FetchIdCompleter))]
    public string? FetchId { get; set; }

    /// <summary>The target schema for a MySQL/MariaDB source's tables.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string TargetSchema { get; set; } = "public";

    /// <summary>MySQL/MariaDB source: table and column names as they are (default), or lower-cased.</summary>
    [Parameter]
    public Molt.IdentifierCase IdentifierCase { get; set; } = Molt.IdentifierCase.Preserve;

    /// <summary>
    /// MySQL/MariaDB source: what a zero date becomes: NULL (a NOT NULL column holding zero dates is refused while planning),
    /// NULL in columns created nullable (DropNotNull), '0001-01-01' (Sentinel), or a rejected row.
    /// </summary>
    [Parameter]
    public Molt.ZeroDateHandling ZeroDateHandling { get; set; } = Molt.ZeroDateHandling.Null;

    /// <summary>
    /// With -TableHandling DropAndRecreate on PostgreSQL: build every table's primary key once its rows are in, which is
    /// faster than maintaining it through the load; -DeferPrimaryKey:$false creates every key with its table. Left out,
    /// tables of at least 100,000 estimated rows defer their key and smaller ones do not (-WhatIf shows each choice).
    /// </summary>
    [Parameter]
    public SwitchParameter DeferPrimaryKey { get; set; }

    /// <summary>CockroachDB target: load through IMPORT INTO from CSV files written into this folder, instead of COPY.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ImportPath { get; set; }

    /// <summary>Where the CockroachDB nodes read -ImportPath's files: http(s) or cloud storage URL.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ImportUrl { get; set; }

    /// <summary>host:port on which Molt serves -ImportPath over HTTP during the load.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ImportListenAddress { get; set; }

    /// <summary>CockroachDB target: a table without a primary key gets CockroachDB's hidden rowid key instead of being refused.</summary>
    [Parameter]
    public SwitchParameter AllowMissingPrimaryKey { get; set; }

    /// <summary>Whether this invocation continues a recorded run, whose selection and handling the run's record gives.</summary>
    protected virtual bool ContinuesRecordedRun => false;

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        try
        {
            LoadParameterConflicts.Check(this, MyInvocation.BoundParameters.ContainsKey(nameof(TableHandling)), ContinuesRecordedRun);
        }
        catch (Engine.MoltException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex));
        }
    }

    /// <summary>The engine's options from these parameters: a new run, unless the caller continues one.</summary>
    protected BulkLoadOptions LoadOptions() => new()
    {
        Filter = new TableFilter(Schema, Table, ExcludeTable),
        TableHandling = EnumMappings.TableHandling.ToEngine(TableHandling),
        Cascade = Cascade,
        TypeMap = TypeMapFile is null ? TypeMapOverrides.None : TypeMapOverrides.Load(ProviderPath(TypeMapFile)),
        Where = RowFilterParameter.ToDictionary(Where),
        TableConcurrency = TableConcurrency,
        ShardsPerTable = ShardsPerTable,
        FetchId = FetchId,
        GivenSelection = GivenSelection(),
        TargetSchema = TargetSchema,
        AllowMissingPrimaryKey = AllowMissingPrimaryKey,
        DeferPrimaryKey = MyInvocation.BoundParameters.ContainsKey(nameof(DeferPrimaryKey)) ? DeferPrimaryKey.IsPresent : null,
        IdentifierCase = EnumMappings.IdentifierCase.ToEngine(IdentifierCase),
        Import = ImportIntoOptions.From(ImportPath is null ? null : ProviderPath(ImportPath), ImportUrl, ImportListenAddress),
    };

    /// <summary>How the source reads its rows; the caller adds what only it knows (a replication slot).</summary>
    protected SourceOptions LoadSourceOptions() => new() { ZeroDates = EnumMappings.ZeroDateHandling.ToEngine(ZeroDateHandling) };

    /// <summary>The plan with the tables the user approved (see <see cref="LoadPlanApproval"/>).</summary>
    protected LoadPlan Approve(LoadPlan plan) => new LoadPlanApproval(this).Approve(plan);

    /// <summary>
    /// Loads an approved plan, writing its progress and each table's result (and an error for a table that failed) as
    /// the table finishes; returns the run's summary.
    /// </summary>
    /// <param name="metrics">Fed the load's progress too, when -MetricsListenAddress serves it.</param>
    private protected Engine.Load.BulkLoadSummary Load(BulkLoadSession session, LoadPlan plan, EndpointAddress source, EndpointAddress target,
        Engine.Metrics.MetricsEndpoint? metrics)
    {
        var (callbacks, progress) = LoadCallbacks(plan, PipelineRecords(), source, target);
        callbacks = metrics?.ObserveLoad(callbacks) ?? callbacks;
        Engine.Load.BulkLoadSummary? summary = null;
        RunEngine(async ct => summary = await session.ExecuteAsync(plan, callbacks, ct).ConfigureAwait(false));
        progress.Completed();
        return summary!;
    }

    /// <summary>
    /// The callbacks that write a load's progress and each table's result (and an error for a table that failed) as the
    /// table finishes, to <paramref name="records"/>: this pipeline, or a replication job's streams.
    /// </summary>
    internal static (BulkLoadCallbacks Callbacks, LoadProgressReport Progress) LoadCallbacks(LoadPlan plan, IReplicationRecords records,
        EndpointAddress source, EndpointAddress target)
    {
        var progress = new LoadProgressReport(plan.Tables, new ProgressWriter(records.WriteProgress));
        var rowFilters = plan.Tables.ToDictionary(t => t.Plan.Source.Name, t => t.Where);
        var callbacks = new BulkLoadCallbacks
        {
            Progress = p => records.Post(() => progress.Update(p)),
            TableFinished = r => records.Post(() =>
            {
                progress.Finished(r);
                records.WriteObject(EngineOutput.ToOutput(r, rowFilters.GetValueOrDefault(r.Table), source, target));
                if (r.Status == TableLoadStatus.Failed)
                {
                    records.WriteError(TableFailed(r));
                }
            }),
        };
        return (callbacks, progress);
    }

    private string ProviderPath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    private static ErrorRecord TableFailed(TableLoadResult result) => result.TargetDiskFull
        ? TableFailed(result, "TargetDiskFull", ErrorCategory.ResourceUnavailable,
            $"Free space on the target (or give its tablespace more room), then run again with -FetchId {result.FetchId} -Resume: the shards recorded done stay, the rest are loaded.")
        : TableFailed(result, "TableLoadFailed", ErrorCategory.InvalidData,
            $"See Get-MoltFetchStatus -FetchId {result.FetchId}; fix the cause, then run again with -FetchId {result.FetchId} -Resume.");

    private static ErrorRecord TableFailed(TableLoadResult result, string errorId, ErrorCategory category, string remedy) =>
        new(new InvalidOperationException($"Table {result.Table} failed to load: {result.Error}"), errorId, category, result.Table.ToString())
        {
            ErrorDetails = new ErrorDetails($"Table {result.Table} failed to load: {result.Error}") { RecommendedAction = remedy },
        };

    /// <summary>The selection options this invocation set: with -Resume the rest come from the run's record.</summary>
    private SelectionParts GivenSelection()
    {
        var bound = MyInvocation.BoundParameters;
        var parts = SelectionParts.None;
        foreach (var (parameter, part) in new[]
                 {
                     (nameof(Schema), SelectionParts.Tables), (nameof(Table), SelectionParts.Tables), (nameof(ExcludeTable), SelectionParts.Tables),
                     (nameof(TableHandling), SelectionParts.TableHandling), (nameof(Where), SelectionParts.Where), (nameof(TypeMapFile), SelectionParts.TypeMap),
                     (nameof(TargetSchema), SelectionParts.TargetSchema), (nameof(IdentifierCase), SelectionParts.IdentifierCase),
                 })
        {
            if (bound.ContainsKey(parameter))
            {
                parts |= part;
            }
        }

        return parts;
    }
}
