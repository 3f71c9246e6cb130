namespace Molt.Engine.Schema;

/// <summary>
/// A half-open range of a table's first primary-key column: Lower &lt;= key &lt; Upper, where a null bound is
/// unbounded. Bounds are key values in the source's text form (an integer's digits, a string as stored, a binary key
/// in hex): the source endpoint that produced them turns them back into literals of the key's type, and the target's
/// state keeps them as text so a resumed run reads exactly the same ranges. <see cref="All"/> is the whole table.
/// </summary>
public sealed record KeyRange(string? KeyColumn, string? Lower, string? Upper)
{
    public static KeyRange All { get; } = new(null, null, null);

    public bool IsAll => Lower is null && Upper is null;

    /// <summary>A readable form for logs and messages.</summary>
    public override string ToString() => IsAll ? "all" : $"{KeyColumn} [{Lower ?? "-inf"}, {Upper ?? "+inf"})";
}
