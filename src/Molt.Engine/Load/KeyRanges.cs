namespace Molt.Engine.Load;

/// <summary>Splits an integer key interval into ranges of equal width.</summary>
public static class KeyRanges
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
        object? lower = null;
        for (var i = 1; i < shards; i++)
        {
            var upper = (long)(min + decimal.Floor(span * i / shards));
            ranges.Add(new KeyRange(keyColumn, lower, upper));
            lower = upper;
        }

        ranges.Add(new KeyRange(keyColumn, lower, null));
        return ranges;
    }
}
