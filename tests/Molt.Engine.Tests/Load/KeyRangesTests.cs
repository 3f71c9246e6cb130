using System.Globalization;
using Molt.Engine.Load;
using Molt.Engine.Schema;

namespace Molt.Engine.Tests.Load;

public sealed class KeyRangesTests
{
    [Theory]
    [InlineData(1, 100, 4)]
    [InlineData(-50, 49, 3)]
    [InlineData(long.MinValue, long.MaxValue, 8)]
    [InlineData(10, 12, 8)]
    public void RangesCoverEveryKeyExactlyOnce(long min, long max, int count)
    {
        var ranges = KeyRanges.Split("id", min, max, count);
        Assert.InRange(ranges.Count, 1, count);
        Assert.Null(ranges[0].Lower);
        Assert.Null(ranges[^1].Upper);
        for (var i = 1; i < ranges.Count; i++)
        {
            Assert.Equal(ranges[i - 1].Upper, ranges[i].Lower);
            Assert.True(i == 1 || long.Parse(ranges[i].Lower!, CultureInfo.InvariantCulture) > long.Parse(ranges[i - 1].Lower!, CultureInfo.InvariantCulture));
        }

        foreach (var key in new[] { min, max, min + ((max - min) / 2), long.MinValue, long.MaxValue })
        {
            Assert.Single(ranges, r => (r.Lower is null || key >= long.Parse(r.Lower, CultureInfo.InvariantCulture)) && (r.Upper is null || key < long.Parse(r.Upper, CultureInfo.InvariantCulture)));
        }
    }

    [Fact]
    public void OneKeyIsOneUnboundedRange() => Assert.True(Assert.Single(KeyRanges.Split("id", 5, 5, 4)).IsAll);

    [Fact]
    public void PartStartsBecomeRangesAndAKeyValueSpanningPartsIsOneBound()
    {
        var ranges = KeyRanges.FromStarts("code", ["b", "m", "m", "x"]);
        Assert.Equal(
            [new KeyRange("code", null, "b"), new KeyRange("code", "b", "m"), new KeyRange("code", "m", "x"), new KeyRange("code", "x", null)],
            ranges);
    }

    [Fact]
    public void NoPartStartsIsTheWholeTable() => Assert.True(Assert.Single(KeyRanges.FromStarts("code", [])).IsAll);
}
