using System.Globalization;
using Molt.Engine.Schema;

namespace Molt.Engine.Load;

/// <summary>Splits a key into shard ranges.</summary>
internal static class KeyRanges
{
    /// <summary>
    /// Up to <paramref name="count"/> half-open ranges covering [min, max]; the first is open below and the last
    /// open above, so rows outside the sampled bounds still land in exactly one shard.
    /// </summary>
    public static IReadOnlyList<KeyRange> Split(string keyColumn, long min, long max, int count)
    {
        var span = (decimal)max - min + 1;
        var shards = (int)Math.Max(1, Math.Min(count, span));
        if (shards == 1)
        {
            return [KeyRange.All];
        }

        var ranges = new List<KeyRange>(shards);
        string? lower = null;
        for (var i = 1; i < shards; i++)
        {
            var upper = ((long)(min + decimal.Floor(span * i / shards))).ToString(CultureInfo.InvariantCulture);
            ranges.Add(new KeyRange(keyColumn, lower, upper));
            lower = upper;
        }

        ranges.Add(new KeyRange(keyColumn, lower, null));
        return ranges;
    }

    /// <summary>
    /// Ranges that start at each of <paramref name="starts"/>, given in the source's key order (the first range needs no
    /// start: it is open below). A start given twice gives one range, so every row still lands in exactly one.
    /// </summary>
    public static IReadOnlyList<KeyRange> FromStarts(string keyColumn, IEnumerable<string> starts)
    {
        var bounds = new List<string>();
        foreach (var start in starts)
        {
            if (bounds.Count == 0 || bounds[^1] != start)
            {
                bounds.Add(start);
            }
        }

        if (bounds.Count == 0)
        {
            return [KeyRange.All];
        }

        var ranges = new List<KeyRange>(bounds.Count + 1);
        string? lower = null;
        foreach (var upper in bounds)
        {
            ranges.Add(new KeyRange(keyColumn, lower, upper));
            lower = upper;
        }

        ranges.Add(new KeyRange(keyColumn, lower, null));
        return ranges;
    }

    /// <summary>
    /// Up to <paramref name="count"/> ranges found by walking the key: <paramref name="next"/> returns where the range
    /// after the one starting at the given key begins (the first range's end for null), in the source's order, or null
    /// past the last row. A source that seeks each step from the last bound reads the key's index once in all.
    /// </summary>
    public static async Task<IReadOnlyList<KeyRange>> WalkAsync(string keyColumn, int count, Func<string?, Task<string?>> next)
    {
        var starts = new List<string>();
        string? previous = null;
        for (var i = 1; i < count && await next(previous).ConfigureAwait(false) is { } start; i++)
        {
            starts.Add(start);
            previous = start;
        }

        return FromStarts(keyColumn, starts);
    }
}
