using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Verify;

public sealed class DecimalTextComparerTests
{
    [Theory]
    [InlineData("9", "10")]
    [InlineData("-10", "-9")]
    [InlineData("-0.5", "0")]
    [InlineData("0.45", "0.5")]
    [InlineData("1.000000000000000000000000000001", "1.000000000000000000000000000002")]
    [InlineData("99999999999999999999999999999999999.999999999999999999999999999998", "99999999999999999999999999999999999.999999999999999999999999999999")]
    [InlineData("-Infinity", "-99999")]
    [InlineData("99999", "Infinity")]
    [InlineData("Infinity", "NaN")]
    public void OrdersByValue(string smaller, string larger)
    {
        Assert.True(DecimalTextComparer.Instance.Compare(smaller, larger) < 0);
        Assert.True(DecimalTextComparer.Instance.Compare(larger, smaller) > 0);
    }

    [Theory]
    [InlineData("1.50", "1.5")]
    [InlineData("-0", "0.000")]
    [InlineData("007", "7")]
    public void EqualValuesInOtherSpellingsAreEqual(string left, string right) => Assert.Equal(0, DecimalTextComparer.Instance.Compare(left, right));
}
