using Molt.Engine.Schema;

namespace Molt.Engine.Verify;

public static class ComparisonStatus
{
    public const string Equal = "Equal";
    public const string Different = "Different";
    public const string Error = "Error";
}

internal static class DifferenceKind
{
    /// <summary>In the source, not in the target.</summary>
    public const string Missing = "Missing";

    /// <summary>In the target, not in the source.</summary>
    public const string Extra = "Extra";

    public const string Mismatch = "Mismatch";
}

/// <summary>The comparison of one table.</summary>
public sealed record TableComparison(TableName Table, TableName TargetTable, long SourceRows, long TargetRows, long Missing, long Extra, long Mismatched,
    string Status, TimeSpan Duration, string? Note);

/// <summary>One differing row: its key (column=value, ...), and for a mismatch the columns that differ with both sides' values.</summary>
public sealed record RowDifference(TableName Table, string Key, string Kind, IReadOnlyList<string> Columns, IReadOnlyList<string?> SourceValues,
    IReadOnlyList<string?> TargetValues);

public sealed record CompareProgress(TableName Table, long Rows, long EstimatedRows);

public sealed record CompareCallbacks
{
    public Action<CompareProgress>? Progress { get; init; }

    public Action<TableComparison>? TableCompared { get; init; }

    public Action<RowDifference>? Difference { get; init; }
}
