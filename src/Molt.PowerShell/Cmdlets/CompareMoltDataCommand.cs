using System.Collections;
using System.Management.Automation;
using Molt.Engine;
using Molt.Engine.Logging;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
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
public sealed class CompareMoltDataCommand : MoltEndpointsCmdlet
{
    private readonly ComparisonRequests requests = new();
    private string[]? commandLineTables;
    private bool tablesOnCommandLine;

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
        var source = SourceAddress(pair.Source);
        var target = TargetAddress(pair.Target);
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
            ZeroDates = EnumMappings.ZeroDateHandling.ToEngine(ZeroDateHandling),
        };
        var progress = new ProgressWriter(WriteProgress);
        var callbacks = new CompareCallbacks
        {
            Progress = p => OnPipeline(() => ShowProgress(progress, p)),
            Difference = d => OnPipeline(() => WriteObject(EngineOutput.ToOutput(d))),
            TableCompared = c => OnPipeline(() =>
            {
                progress.Complete(c.Table, $"Comparing {c.Table}", c.Status);
                WriteObject(EngineOutput.ToOutput(c, source, target));
            }),
        };
        RunEngine(async ct => await CompareSession.RunAsync(source, target, options, callbacks, log, ct).ConfigureAwait(false));
    }

    private static bool Is(PSObject? input, string typeName) =>
        input is not null && input.TypeNames.Any(t => t == typeName || t == "Deserialized." + typeName);

    private static void ShowProgress(ProgressWriter progress, CompareProgress table)
    {
        if (progress.IsDue(table.Table))
        {
            progress.Show(table.Table, $"Comparing {table.Table}", $"{table.Rows:N0} of ~{table.EstimatedRows:N0} rows", table.Rows, table.EstimatedRows);
        }
    }
}
