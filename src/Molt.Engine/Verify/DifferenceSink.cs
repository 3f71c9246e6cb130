using Molt.Engine.Schema;

namespace Molt.Engine.Verify;

/// <summary>
/// Collects a table's differing rows: reported at once, or in live mode kept (with their keys) for a re-check first.
/// At most MaxDifferences rows are reported or re-checked; the counts include every difference.
/// </summary>
internal sealed class DifferenceSink(TableName table, IReadOnlyList<string> columns, CompareOptions options, CompareCallbacks callbacks,
    DataComparer.Counts counts)
{
    private int reported;

    public List<Candidate> Candidates { get; } = [];

    /// <summary>Whether another difference would be kept (the counts go on regardless).</summary>
    public bool HasRoom => reported + Candidates.Count < options.MaxDifferences;

    /// <summary>Whether another difference would be shown with its values (-Detailed): only then are they worth reading.</summary>
    public bool ShowsValues => HasRoom && options.Detailed;

    public void Add(string kind, string key, string?[]? sourceValues, string?[]? targetValues, object?[] keyValues)
    {
        if (!HasRoom)
        {
            return;
        }

        var difference = Describe(kind, key, sourceValues, targetValues);
        if (options.Live)
        {
            Candidates.Add(new Candidate(difference, keyValues));
        }
        else
        {
            Report(difference);
        }
    }

    /// <summary>A re-read showed the row equal on both sides (replication caught up): it is no difference.</summary>
    public void Resolve(Candidate candidate)
    {
        Candidates.Remove(candidate);
        switch (candidate.Difference.Kind)
        {
            case DifferenceKind.Missing:
                counts.Missing--;
                break;
            case DifferenceKind.Extra:
                counts.Extra--;
                break;
            default:
                counts.Mismatched--;
                break;
        }
    }

    /// <summary>Reports what stayed different through the re-checks.</summary>
    public void Flush()
    {
        foreach (var candidate in Candidates)
        {
            Report(candidate.Difference);
        }

        Candidates.Clear();
    }

    private void Report(RowDifference difference)
    {
        reported++;
        if (options.Detailed)
        {
            callbacks.Difference?.Invoke(difference);
        }
    }

    private RowDifference Describe(string kind, string key, string?[]? sourceValues, string?[]? targetValues)
    {
        var differing = Enumerable.Range(0, columns.Count)
            .Where(i => kind != DifferenceKind.Mismatch || !string.Equals(sourceValues![i], targetValues![i], StringComparison.Ordinal)).ToList();
        return new RowDifference(table, key, kind, differing.Select(i => columns[i]).ToList(),
            sourceValues is null ? [] : differing.Select(i => sourceValues[i]).ToList(),
            targetValues is null ? [] : differing.Select(i => targetValues[i]).ToList());
    }

    internal sealed record Candidate(RowDifference Difference, object?[] KeyValues);
}
