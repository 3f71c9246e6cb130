using System.Collections;
using System.Management.Automation;
using System.Text;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Schema;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Copies the selected tables from the source into the target from one consistent snapshot, resumably.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "MoltBulkLoad", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BulkLoadTableResult), typeof(BulkLoadSummary))]
public sealed class StartMoltBulkLoadCommand : MoltCmdlet
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Source { get; set; } = string.Empty;

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Target { get; set; } = string.Empty;

    [Parameter]
    [Credential]
    public PSCredential? SourceCredential { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    /// <summary>Source schemas to load (wildcards). A MySQL/MariaDB database is its schema.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Schema { get; set; }

    [Parameter]
    [SupportsWildcards]
    public string[]? Table { get; set; }

    [Parameter]
    [SupportsWildcards]
    public string[]? ExcludeTable { get; set; }

    [Parameter]
    public Molt.TableHandling TableHandling { get; set; } = Molt.TableHandling.None;

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

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FetchId { get; set; }

    /// <summary>Continue the run named by -FetchId: finished shards are kept, the rest are loaded again.</summary>
    [Parameter]
    public SwitchParameter Resume { get; set; }

    /// <summary>PostgreSQL source: create this logical replication slot at the load's snapshot, for replication to start from.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ReplicationSlot { get; set; }

    /// <summary>The target schema for a MySQL/MariaDB source's tables.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string TargetSchema { get; set; } = "public";

    /// <summary>MySQL/MariaDB source: table and column names as they are (default), or lower-cased.</summary>
    [Parameter]
    public Molt.IdentifierCase IdentifierCase { get; set; } = Molt.IdentifierCase.Preserve;

    /// <summary>MySQL/MariaDB source: what a zero date becomes (NULL, or a rejected row).</summary>
    [Parameter]
    public Molt.ZeroDateHandling ZeroDateHandling { get; set; } = Molt.ZeroDateHandling.Null;

    /// <summary>
    /// With -TableHandling DropAndRecreate on PostgreSQL: build each table's primary key once its rows are in, which is
    /// faster than maintaining it through the load.
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

    protected override void ProcessRecord()
    {
        try
        {
            var sourceAddress = EndpointAddress.Parse(Source, SourceCredential?.GetNetworkCredential());
            var targetAddress = EndpointAddress.Parse(Target, TargetCredential?.GetNetworkCredential());
            var options = new BulkLoadOptions
            {
                Filter = new TableFilter(Schema, Table, ExcludeTable),
                TableHandling = (Engine.Load.TableHandling)(int)TableHandling,
                TypeMap = TypeMapFile is null ? TypeMapOverrides.None : TypeMapOverrides.Load(SessionState.Path.GetUnresolvedProviderPathFromPSPath(TypeMapFile)),
                Where = RowFilterParameter.ToDictionary(Where),
                TableConcurrency = TableConcurrency,
                ShardsPerTable = ShardsPerTable,
                FetchId = FetchId,
                Resume = Resume,
                TargetSchema = TargetSchema,
                AllowMissingPrimaryKey = AllowMissingPrimaryKey,
                DeferPrimaryKey = DeferPrimaryKey,
                IdentifierCase = (Engine.Schema.IdentifierCase)(int)IdentifierCase,
                Import = ImportIntoOptions.From(
                    ImportPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(ImportPath), ImportUrl, ImportListenAddress),
            };
            using var log = OpenLog();
            BulkLoadSession? session = null;
            try
            {
                LoadPlan? plan = null;
                RunEngine(async ct =>
                {
                    session = await BulkLoadSession.OpenAsync(sourceAddress, targetAddress, options,
                        new SourceOptions
                        {
                            ReplicationSlot = ReplicationSlot,
                            ZeroDates = (Engine.Endpoints.MySql.ZeroDateHandling)(int)ZeroDateHandling,
                        }, log, ct).ConfigureAwait(false);
                    plan = await session.PlanAsync(ct).ConfigureAwait(false);
                });
                var approved = Approve(plan!);
                if (approved.Tables.Count > 0)
                {
                    Execute(session!, approved, sourceAddress, targetAddress);
                }
            }
            finally
            {
                if (session is not null)
                {
                    RunEngine(async _ => await session.DisposeAsync().ConfigureAwait(false));
                }
            }
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            ThrowTerminatingError(ToErrorRecord(ex, Source));
        }
    }

    /// <summary>Asks ShouldProcess per table, describing what would run; -WhatIf prints the whole plan and approves nothing.</summary>
    private LoadPlan Approve(LoadPlan plan)
    {
        var approved = new List<PlannedTable>();
        foreach (var table in plan.Tables)
        {
            if (table.Warning is not null && !MyInvocation.BoundParameters.ContainsKey("WhatIf"))
            {
                WriteWarning(table.Warning);
            }

            var description = Describe(plan, table);
            var action = TableHandling switch
            {
                Molt.TableHandling.DropAndRecreate => "Drop, recreate and load",
                Molt.TableHandling.TruncateIfExists => "Truncate and load",
                _ => "Load",
            };
            if (ShouldProcess(description, $"{action} target table {table.Plan.Target}?", $"{action} {table.Plan.Target}"))
            {
                approved.Add(table);
            }
        }

        return plan with { Tables = approved };
    }

    private string Describe(LoadPlan plan, PlannedTable table)
    {
        var text = new StringBuilder();
        text.Append($"Load {table.Plan.Source.Name} -> {table.Plan.Target} ({plan.TargetDialect}), ~{table.Plan.Source.EstimatedRows} rows, ");
        text.Append(table.Plan.Source.HasPrimaryKey ? $"up to {ShardsPerTable} shards" : "1 shard (no primary key)");
        text.Append(table.Plan.IsBinaryCompatible ? ", binary relay" : ", converted per column");
        if (table.Where is not null)
        {
            text.Append($", WHERE {table.Where}");
        }

        foreach (var column in table.Plan.Columns)
        {
            text.AppendLine().Append($"  column {column.Name}: {column.Source.Type.Declared} -> {column.Type.Sql}");
            if (column.Type.Note is not null)
            {
                text.Append($" ({column.Type.Note})");
            }
        }

        foreach (var sql in table.PreLoad)
        {
            text.AppendLine().Append("  before: ").Append(sql);
        }

        if (table.PrimaryKeyAfterLoad is not null)
        {
            text.AppendLine().Append("  after its rows: ").Append(table.PrimaryKeyAfterLoad);
        }

        foreach (var statement in table.PostLoad)
        {
            text.AppendLine().Append("  after: ").Append(statement.Sql ?? $"-- {statement.Description} not created: {statement.NotTranslatedReason}");
        }

        if (table.Warning is not null)
        {
            text.AppendLine().Append("  warning: ").Append(table.Warning);
        }

        return text.ToString();
    }

    private void Execute(BulkLoadSession session, LoadPlan plan, EndpointAddress sourceAddress, EndpointAddress targetAddress)
    {
        var progressIds = new Dictionary<TableName, int>();
        var lastProgress = new Dictionary<TableName, DateTime>();
        var rowFilters = plan.Tables.ToDictionary(t => t.Plan.Source.Name, t => t.Where);
        var callbacks = new BulkLoadCallbacks
        {
            Progress = p => OnPipeline(() => WriteTableProgress(p, progressIds, lastProgress)),
            TableFinished = r => OnPipeline(() =>
            {
                if (progressIds.TryGetValue(r.Table, out var id))
                {
                    WriteProgress(new ProgressRecord(id, $"Loading {r.Table}", r.Status) { RecordType = ProgressRecordType.Completed });
                }

                WriteObject(ToOutput(r, rowFilters.GetValueOrDefault(r.Table), sourceAddress, targetAddress));
                if (r.Status == TableLoadStatus.Failed)
                {
                    WriteError(new ErrorRecord(new InvalidOperationException($"Table {r.Table} failed to load: {r.Error}"), "TableLoadFailed",
                        ErrorCategory.InvalidData, r.Table.ToString())
                    {
                        ErrorDetails = new ErrorDetails($"Table {r.Table} failed to load: {r.Error}")
                        {
                            RecommendedAction = $"See Get-MoltFetchStatus -FetchId {r.FetchId}; fix the cause, then run again with -FetchId {r.FetchId} -Resume.",
                        },
                    });
                }
            }),
        };
        Engine.Load.BulkLoadSummary? summary = null;
        RunEngine(async ct => summary = await session.ExecuteAsync(plan, callbacks, ct).ConfigureAwait(false));
        WriteObject(new BulkLoadSummary
        {
            FetchId = summary!.FetchId,
            Status = summary.Status,
            SnapshotPosition = summary.SnapshotPosition?.Value,
            GtidSet = summary.SnapshotPosition?.GtidSet,
            Tables = summary.Tables,
            Rows = summary.Rows,
            Bytes = summary.Bytes,
            Duration = summary.Duration,
            RowsPerSecond = summary.Duration.TotalSeconds > 0 ? Math.Round(summary.Rows / summary.Duration.TotalSeconds) : 0,
            FailedTables = summary.FailedTables.Select(t => t.ToString()).ToArray(),
            Source = sourceAddress.Display,
            Target = targetAddress.Display,
        });
    }

    private void WriteTableProgress(TableProgress progress, Dictionary<TableName, int> ids, Dictionary<TableName, DateTime> last)
    {
        var now = DateTime.UtcNow;
        if (last.TryGetValue(progress.Table, out var previous) && now - previous < ProgressInterval)
        {
            return;
        }

        last[progress.Table] = now;
        if (!ids.TryGetValue(progress.Table, out var id))
        {
            ids[progress.Table] = id = ids.Count + 1;
        }

        var percent = progress.EstimatedRows > 0 ? (int)Math.Min(99, progress.Rows * 100 / progress.EstimatedRows) : -1;
        WriteProgress(new ProgressRecord(id, $"Loading {progress.Table}",
            $"{progress.Rows:N0} of ~{progress.EstimatedRows:N0} rows, {progress.RowsPerSecond:N0} rows/s")
        {
            PercentComplete = percent,
        });
    }

    private static BulkLoadTableResult ToOutput(TableLoadResult result, string? where, EndpointAddress source, EndpointAddress target) => new()
    {
        FetchId = result.FetchId,
        Table = result.Table.ToString(),
        TargetTable = result.TargetTable.ToString(),
        Rows = result.Rows,
        Bytes = result.Bytes,
        Duration = result.Duration,
        RowsPerSecond = result.Duration.TotalSeconds > 0 ? Math.Round(result.Rows / result.Duration.TotalSeconds) : 0,
        Status = result.Status,
        Error = result.Error,
        Shards = result.Shards,
        Where = where,
        Source = source.Display,
        Target = target.Display,
    };
}
