using System.Globalization;
using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Text;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.State;
using Molt.PowerShell.Completion;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Copies the selected tables from the source into the target from one consistent snapshot, resumably.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "MoltBulkLoad", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BulkLoadTableResult), typeof(BulkLoadSummary))]
public sealed class StartMoltBulkLoadCommand : MoltCmdlet
{
    /// <summary>Taken from a piped run (Get-MoltFetchStatus) or load summary, for -Resume.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Source { get; set; } = string.Empty;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
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

    /// <summary>
    /// MySQL/MariaDB source: what a zero date becomes: NULL (a NOT NULL column holding zero dates is refused while planning),
    /// NULL in columns created nullable (DropNotNull), '0001-01-01' (Sentinel), or a rejected row.
    /// </summary>
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
            var sourceAddress = EndpointAddress.Parse(Source, SourceCredential?.GetNetworkCredential(), EndpointRole.Source);
            var targetAddress = EndpointAddress.Parse(Target, TargetCredential?.GetNetworkCredential(), EndpointRole.Target);
            var options = new BulkLoadOptions
            {
                Filter = new TableFilter(Schema, Table, ExcludeTable),
                TableHandling = (Engine.Schema.TableHandling)(int)TableHandling,
                Cascade = Cascade,
                TypeMap = TypeMapFile is null ? TypeMapOverrides.None : TypeMapOverrides.Load(SessionState.Path.GetUnresolvedProviderPathFromPSPath(TypeMapFile)),
                Where = RowFilterParameter.ToDictionary(Where),
                TableConcurrency = TableConcurrency,
                ShardsPerTable = ShardsPerTable,
                FetchId = FetchId,
                Resume = Resume,
                GivenSelection = GivenSelection(),
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
                            ZeroDates = (Engine.Schema.ZeroDateHandling)(int)ZeroDateHandling,
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
            ThrowTerminatingError(ToErrorRecord(ex));
        }
    }

    /// <summary>
    /// Asks ShouldProcess for the TRUNCATE or DROP over the selected tables (declined: nothing is done), then per table,
    /// describing what would run; -WhatIf prints the whole plan and approves nothing.
    /// </summary>
    private LoadPlan Approve(LoadPlan plan)
    {
        var whatIf = WhatIfInEffect();
        // A resumed run drops or empties by its recorded table handling, which a bare -Resume does not repeat.
        var handling = plan.Selection.TableHandling;
        var dropping = handling == Engine.Schema.TableHandling.DropAndRecreate;
        if (plan.Reset is { } reset)
        {
            if (!whatIf)
            {
                foreach (var removed in reset.AlsoRemoved)
                {
                    WriteWarning(dropping ? $"-Cascade also drops {removed}: it depends on a selected table and is not recreated." : $"-Cascade also empties {removed}.");
                }

                if (reset.Unlisted is not null)
                {
                    WriteWarning($"-Cascade: {reset.Unlisted}.");
                }
            }

            // Declined, nothing is done; under -WhatIf every table's plan is still printed.
            var verb = dropping ? "Drop" : "Truncate";
            var description = DescribeReset(reset, dropping);
            if (!Confirms(handling, description, $"{description}{Environment.NewLine}{verb} the {plan.Tables.Count} selected target table(s)" +
                    $"{(reset.AlsoRemoved.Count > 0 ? " and what -Cascade takes along" : "")}?", $"{verb} target tables") && !whatIf)
            {
                return plan with { Tables = [] };
            }
        }

        var approved = new List<PlannedTable>();
        foreach (var table in plan.Tables)
        {
            if (table.Warning is not null && !whatIf)
            {
                WriteWarning(table.Warning);
            }

            var description = Describe(plan, table);
            var action = handling switch
            {
                Engine.Schema.TableHandling.DropAndRecreate => "Drop, recreate and load",
                Engine.Schema.TableHandling.TruncateIfExists => "Truncate and load",
                _ => "Load",
            };
            if (Confirms(handling, description, $"{action} target table {table.Plan.Target}?", $"{action} {table.Plan.Target}"))
            {
                approved.Add(table);
            }
        }

        return plan with { Tables = approved };
    }

    /// <summary>
    /// ShouldProcess at this load's impact. The cmdlet is declared High, so a destructive load asks under the default
    /// $ConfirmPreference, which -Force or -Confirm:$false skip; a plain append stays Medium, as it was: it asks only
    /// with -Confirm or a $ConfirmPreference of Medium or lower. A host that cannot ask (pwsh -NonInteractive, a
    /// runspace without a UI) fails with what to add instead of waiting for an answer.
    /// </summary>
    private bool Confirms(Engine.Schema.TableHandling handling, string description, string question, string caption)
    {
        var asked = MyInvocation.BoundParameters.ContainsKey("Confirm") || WhatIfInEffect()
            || (handling == Engine.Schema.TableHandling.None ? ConfirmPreferenceReaches(ConfirmImpact.Medium) : !Force);
        if (!asked)
        {
            return true;
        }

        try
        {
            return ShouldProcess(description, question, caption);
        }
        catch (Exception ex) when (ex is HostException or PSInvalidOperationException)
        {
            throw handling == Engine.Schema.TableHandling.None
                ? new Engine.MoltException(Engine.MoltErrorKind.InvalidArgument, "ConfirmationRequired",
                    $"The load asks first (-Confirm or $ConfirmPreference), but this session cannot ask: {ex.Message}",
                    "Leave -Confirm out, or add -Confirm:$false, to run it unattended; -WhatIf shows what it would do.", ex)
                : new Engine.MoltException(Engine.MoltErrorKind.InvalidArgument, "ConfirmationRequired",
                    $"-TableHandling {handling} drops or empties target tables and asks first, but this session cannot ask: {ex.Message}",
                    "Add -Force (or -Confirm:$false) to run it unattended; -WhatIf shows what it would do.", ex);
        }
    }

    private bool WhatIfInEffect() => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var bound)
        ? ((SwitchParameter)bound).IsPresent
        : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

    private bool ConfirmPreferenceReaches(ConfirmImpact impact) =>
        GetVariableValue("ConfirmPreference") is ConfirmImpact preference && preference != ConfirmImpact.None && preference <= impact;

    private static string DescribeReset(TableReset reset, bool dropping)
    {
        var text = new StringBuilder("Before any table: ").Append(reset.Sql);
        foreach (var removed in reset.AlsoRemoved)
        {
            text.AppendLine().Append(dropping ? "  also drops: " : "  also empties: ").Append(removed);
        }

        if (reset.Unlisted is not null)
        {
            text.AppendLine().Append("  also: ").Append(reset.Unlisted);
        }

        return text.ToString();
    }

    private string Describe(LoadPlan plan, PlannedTable table)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Load {table.Plan.Source.Name} -> {table.Plan.Target} ({plan.TargetDialect}), ~{table.Plan.Source.EstimatedRows} rows, ");
        text.Append(table.Plan.Source.HasPrimaryKey ? $"up to {ShardsPerTable} shards" : "1 shard (no primary key)");
        text.Append(table.Plan.IsBinaryCompatible ? ", binary relay" : ", converted per column");
        if (table.Where is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $", WHERE {table.Where}");
        }

        foreach (var column in table.Plan.Columns)
        {
            text.AppendLine().Append(CultureInfo.InvariantCulture, $"  column {column.Name}: {column.Source.Type.Declared} -> {column.Type.Sql}");
            if (column.Type.Note is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $" ({column.Type.Note})");
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
        var progress = new LoadProgressReport(plan.Tables);
        var rowFilters = plan.Tables.ToDictionary(t => t.Plan.Source.Name, t => t.Where);
        var callbacks = new BulkLoadCallbacks
        {
            Progress = p => OnPipeline(() => WriteProgress(progress.Update(p))),
            TableFinished = r => OnPipeline(() =>
            {
                WriteProgress(progress.Finished(r));
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
        WriteProgress(progress.Completed());
        WriteObject(new BulkLoadSummary
        {
            FetchId = summary!.FetchId,
            Status = Statuses.Load(summary.Status),
            SnapshotPosition = summary.SnapshotPosition is { } position ? RecordedPosition.Of(position).Value : null,
            GtidSet = summary.SnapshotPosition is { } gtids ? RecordedPosition.Of(gtids).GtidSet : null,
            Tables = summary.Tables,
            Rows = summary.Rows,
            Bytes = summary.Bytes,
            Duration = summary.Duration,
            RowsPerSecond = Math.Round(summary.RowsPerSecond),
            FailedTables = summary.FailedTables.Select(t => t.ToString()).ToArray(),
            PendingTables = summary.PendingTables.Select(t => t.ToString()).ToArray(),
            ReplicationSlot = ReplicationSlot,
            Source = sourceAddress.Display,
            Target = targetAddress.Display,
        });
        if (ReplicationSlot is not null)
        {
            WriteWarning($"The replication slot '{ReplicationSlot}' on the source keeps its WAL from the load's snapshot on, until replication " +
                $"consumes it. If no replication follows this load, drop it: SELECT pg_drop_replication_slot('{ReplicationSlot.Replace("'", "''")}');");
        }
    }

    private void WriteProgress(IEnumerable<ProgressRecord> records)
    {
        foreach (var record in records)
        {
            WriteProgress(record);
        }
    }

    private static BulkLoadTableResult ToOutput(TableLoadResult result, string? where, EndpointAddress source, EndpointAddress target) => new()
    {
        FetchId = result.FetchId,
        Table = result.Table.ToString(),
        TargetTable = result.TargetTable.ToString(),
        Rows = result.Rows,
        Bytes = result.Bytes,
        Duration = result.Duration,
        RowsPerSecond = Math.Round(result.RowsPerSecond),
        Status = Statuses.Load(result.Status),
        Error = result.Error,
        Shards = result.Shards,
        Where = where,
        Source = source.Display,
        Target = target.Display,
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
