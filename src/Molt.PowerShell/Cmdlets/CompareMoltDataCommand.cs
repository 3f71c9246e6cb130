using System.Management.Automation;
using Molt.Engine.Endpoints;
using Molt.Engine.Schema;
using Molt.Engine.Verify;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// <para type="synopsis">Compares source and target tables row by row and reports every difference as objects.</para>
/// </summary>
[Cmdlet(VerbsData.Compare, "MoltData")]
[OutputType(typeof(Molt.TableComparison), typeof(Molt.RowDifference))]
public sealed class CompareMoltDataCommand : MoltCmdlet
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

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
    public string[]? Schema { get; set; }

    /// <summary>Tables to compare; taken from a load result's Table property when piped.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[]? Table { get; set; }

    [Parameter]
    [SupportsWildcards]
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

    protected override void ProcessRecord()
    {
        try
        {
            var source = EndpointAddress.Parse(Source, SourceCredential?.GetNetworkCredential());
            var target = EndpointAddress.Parse(Target, TargetCredential?.GetNetworkCredential());
            var options = new CompareOptions
            {
                Filter = new TableFilter(Schema, Table, ExcludeTable),
                TargetSchema = TargetSchema,
                Detailed = Detailed,
                MaxDifferences = MaxDifferences,
                TableConcurrency = TableConcurrency,
                Live = Live,
                FloatTolerance = FloatTolerance,
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
                        Status = c.Status,
                        Duration = c.Duration,
                        Note = c.Note,
                    });
                }),
            };
            using var log = OpenLog();
            RunEngine(async ct => await CompareSession.RunAsync(source, target, options, callbacks, log, ct).ConfigureAwait(false));
        }
        catch (Exception ex) when (!IsPipelineEnding(ex))
        {
            WriteError(ToErrorRecord(ex, Source));
        }
    }

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
