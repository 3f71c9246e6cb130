namespace Molt;

/// <summary>The comparison of one table by Compare-MoltData.</summary>
public sealed class TableComparison
{
    public string Table { get; init; } = string.Empty;

    public string TargetTable { get; init; } = string.Empty;

    public long SourceRows { get; init; }

    public long TargetRows { get; init; }

    /// <summary>Rows in the source that the target lacks.</summary>
    public long Missing { get; init; }

    /// <summary>Rows in the target that the source lacks.</summary>
    public long Extra { get; init; }

    public long Mismatched { get; init; }

    /// <summary>Equal, Different or Error.</summary>
    public ComparisonStatus Status { get; init; }

    public TimeSpan Duration { get; init; }

    public string? Note { get; init; }

    /// <summary>The source endpoint, without its password (results piped from several loads are compared pair by pair).</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>The target endpoint, without its password.</summary>
    public string Target { get; init; } = string.Empty;

    public override string ToString() => $"{Table}: {Status}";
}

/// <summary>One differing row (Compare-MoltData -Detailed).</summary>
public sealed class RowDifference
{
    public string Table { get; init; } = string.Empty;

    /// <summary>The primary key: column=value, ...</summary>
    public string Key { get; init; } = string.Empty;

    /// <summary>Missing (only in the source), Extra (only in the target) or Mismatch.</summary>
    public string Kind { get; init; } = string.Empty;

    public string[] Columns { get; init; } = [];

    public string?[] SourceValues { get; init; } = [];

    public string?[] TargetValues { get; init; } = [];

    public override string ToString() => $"{Table} {Key}: {Kind}";
}
