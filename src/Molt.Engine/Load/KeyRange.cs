namespace Molt.Engine.Load;

/// <summary>
/// A half-open range of a table's first primary-key column: Lower &lt;= key &lt; Upper, where a null bound is
/// unbounded. Bounds are values of the key's type as the source's data reader returns them (long, decimal, string,
/// Guid...). <see cref="All"/> is the whole table.
/// </summary>
public sealed record KeyRange(string? KeyColumn, object? Lower, object? Upper)
{
    public static KeyRange All { get; } = new(null, null, null);

    public bool IsAll => Lower is null && Upper is null;

    /// <summary>A stable text form, stored in the target's state to recognise the shard when a run resumes.</summary>
    public override string ToString() => IsAll ? "all" : $"{KeyColumn} [{Lower?.ToString() ?? "-inf"}, {Upper?.ToString() ?? "+inf"})";
}
