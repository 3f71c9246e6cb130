using System.Collections;
using System.Management.Automation;
using Molt.Engine.Sessions;
using Molt.Engine;
using Molt.Engine.Endpoints;
using Molt.Engine.Logging;
using Molt.Engine.Schema;
using Molt.Engine.Verify;
using Molt.PowerShell.Completion;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Compares source and target tables row by row and reports every difference as objects.</para>
/// Piped input is collected and compared once, in EndProcessing: a load's table results name exactly the tables (and
/// -Where) to compare, each once, grouped by source and target; a load's summary adds nothing.
/// </summary>
[Cmdlet(VerbsData.Compare, "MoltData")]
[OutputType(typeof(Molt.TableComparison), typeof(Molt.RowDifference))]
public sealed class CompareMoltDataCommand : MoltCmdlet
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    private readonly ComparisonRequests requests = new();
    private string[]? commandLineTables;
    private bool tablesOnCommandLine;

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

    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SourceSchemaCompleter))]
    public string[]? Schema { get; set; }

    /// <summary>Tables to compare; taken from a load result's Table property when piped.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SourceTableCompleter))]
    public string[]? Table { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SourceTableCompleter))]
    public string[]? ExcludeTable { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string TargetSchema { get; set; } = "public";

    /// <summary>Also write one RowDifference per differing row.</summary>
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxDifferences { get; set; } = 1000;

    [Parameter]
    [ValidateRange(1, 64)]
    public int TableConcurrency { get; set; } = 4;

    /// <summary>Re-check differing rows a few times after a delay before reporting them, for tables being replicated.</summary>
    [Parameter]
    public SwitchParameter Live { get; set; }

    /// <summary>Relative tolerance for floating-point columns (default 0: exact).</summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double FloatTolerance { get; set; }

    /// <summary>MySQL/MariaDB source: the -ZeroDateHandling the load used, so that zero dates compare with what they became.</summary>
    [Parameter]
    public Molt.ZeroDateHandling ZeroDateHandling { get; set; } = Molt.ZeroDateHandling.Null;

    /// <summary>
    /// Row filters as Start-MoltBulkLoad takes them: applied to the source, and to the target too when it can evaluate
    /// them. They win over the -Where a piped load result carries for the same table.
    /// </summary>
    [Parameter]
    public Hashtable? Where { get; set; }

    /// <summary>The piped object itself, to tell a load's table result (its Where) and summary (nothing to compare) apart.</summary>
    [Parameter(ValueFromPipeline = true, DontShow = true)]
    public PSObject? InputObject { get; set; }

    protected override void BeginProcessing()
    {
        // Pipeline binding changes Table per object; what the command line gave is fixed before the first one.
        tablesOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Table));
        commandLineTables = tablesOnCommandLine ? Table : null;
    }

    protected override void ProcessRecord()
    {
        try
        {
            if (!MyInvocation.ExpectingInput || tablesOnCommandLine)
            {
                requests.AddEveryTable(Source, Target);
            }
            else if (Is(InputObject, "Molt.BulkLoadTableResult") && Table is [var loaded])
            {
                requests.AddLoadedTable(Source, Target, loaded, InputObject!.Properties["Where"]?.Value as string);
            }
            else if (Table is { Length: > 0 })
            {
                requests.AddTables(Source, Target, Table);
            }
            else if (!Is(InputObject, "Molt.BulkLoadSummary"))
            {
                requests.AddEveryTable(Source, Target);
            }
        }
        catch (MoltException ex)
        {
            WriteError(ToErrorRecord(ex));
        }
    }

    protected override void EndProcessing()
    {
        try
        {
            var where = RowFilterParameter.ToDictionary(Where);
            using var log = OpenLog();
            if (requests.Pairs.Count == 0)
            {
                throw new MoltException(MoltErrorKind.InvalidArgument, "PipedInputNamesNoTable",
                    "The piped objects name no table to compare: a load's summary lists only the tables that failed.",
                    "Pipe the load's table results (Start-MoltBulkLoad ... | Compare-MoltData), or name the tables with -Table.");
            }

            foreach (var pair in requests.Pairs)
            {
                if (StopToken.IsCancellationRequested)
                {
                    break;
                }

                try
                {
                    Compare(pair, where, log);
                }
                catch (Exception ex) when (!IsPipelineEnding(ex))
                {
                    WriteError(ToErrorRecord(ex));
                }
            }
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            WriteError(ToErrorRecord(ex));
        }
    }

    private void Compare(EndpointPair pair, IReadOnlyDictionary<string, string> where, MoltLogSession log)
    {
        var source = EndpointAddress.Parse(pair.Source, SourceCredential?.GetNetworkCredential(), EndpointRole.Source);
        var target = EndpointAddress.Parse(pair.Target, TargetCredential?.GetNetworkCredential(), EndpointRole.Target);
        var options = new CompareOptions
        {
            Filter = new TableFilter(Schema, pair.EveryTable ? commandLineTables : pair.TablePatterns, ExcludeTable),
            Where = pair.RowFilters(where),
            TargetSchema = TargetSchema,
            Detailed = Detailed,
            MaxDifferences = MaxDifferences,
            TableConcurrency = TableConcurrency,
            Live = Live,
            FloatTolerance = FloatTolerance,
            ZeroDates = (Engine.Schema.ZeroDateHandling)(int)ZeroDateHandling,
        };
        var progressIds = new Dictionary<TableName, int>();
        var lastProgress = new Dictionary<TableName, DateTime>();
        var callbacks = new CompareCallbacks
        {
            Progress = p => OnPipeline(() => WriteTableProgress(p, progressIds, lastProgress)),
            Difference = d => OnPipeline(() => WriteObject(new Molt.RowDifference
            {
                Table = d.Table.ToString(),
                Key = d.Key,
                Kind = d.Kind,
                Columns = d.Columns.ToArray(),
                SourceValues = d.SourceValues.ToArray(),
                TargetValues = d.TargetValues.ToArray(),
            })),
            TableCompared = c => OnPipeline(() =>
            {
                if (progressIds.TryGetValue(c.Table, out var id))
                {
                    WriteProgress(new ProgressRecord(id, $"Comparing {c.Table}", c.Status) { RecordType = ProgressRecordType.Completed });
                }

                WriteObject(new Molt.TableComparison
                {
                    Table = c.Table.ToString(),
                    TargetTable = c.TargetTable.ToString(),
                    SourceRows = c.SourceRows,
                    TargetRows = c.TargetRows,
                    Missing = c.Missing,
                    Extra = c.Extra,
                    Mismatched = c.Mismatched,
                    Status = Statuses.Comparison(c.Status),
                    Duration = c.Duration,
                    Note = c.Note,
                    Source = source.Display,
                    Target = target.Display,
                });
            }),
        };
        RunEngine(async ct => await CompareSession.RunAsync(source, target, options, callbacks, log, ct).ConfigureAwait(false));
    }

    private static bool Is(PSObject? input, string typeName) =>
        input is not null && input.TypeNames.Any(t => t == typeName || t == "Deserialized." + typeName);

    private void WriteTableProgress(CompareProgress progress, Dictionary<TableName, int> ids, Dictionary<TableName, DateTime> last)
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

        WriteProgress(new ProgressRecord(id, $"Comparing {progress.Table}", $"{progress.Rows:N0} of ~{progress.EstimatedRows:N0} rows")
        {
            PercentComplete = progress.EstimatedRows > 0 ? (int)Math.Min(99, progress.Rows * 100 / progress.EstimatedRows) : -1,
        });
    }
}
