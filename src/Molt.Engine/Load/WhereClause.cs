namespace Molt.Engine.Load;

/// <summary>The WHERE clause a source's shard queries share: the conditions given, joined by AND, or nothing.</summary>
internal static class WhereClause
{
    /// <summary>" WHERE a AND b" for the conditions that are not null; a row filter (-Where) is parenthesised.</summary>
    public static string Of(string? lowerBound, string? upperBound, string? rowFilter)
    {
        var conditions = new[] { lowerBound, upperBound, rowFilter is null ? null : $"({rowFilter})" }.OfType<string>().ToList();
        return conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
    }
}
