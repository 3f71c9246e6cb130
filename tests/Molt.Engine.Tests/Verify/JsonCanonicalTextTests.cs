using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Verify;

public sealed class JsonCanonicalTextTests
{
    [Theory]
    [InlineData("1.0", "1")]
    [InlineData("1e2", "100")]
    [InlineData("1E+2", "100")]
    [InlineData("-0.0", "0")]
    [InlineData("123.4500e-2", "1.2345")]
    [InlineData("1.5e-1", "0.15")]
    [InlineData("0.000000000000000000000000000001", "0.000000000000000000000000000001")]
    [InlineData("1e-50", "1e-50")]
    [InlineData("12e45", "1.2e46")]
    [InlineData("1e99999999999", "1e99999999999")]
    [InlineData("-1.00000000000000000000000000000001", "-1.00000000000000000000000000000001")]
    public void ANumberIsSpelledOneWayPerValueWithEveryDigit(string raw, string canonical) => Assert.Equal(canonical, JsonCanonicalText.Number(raw));

    [Fact]
    public void KeysAreSortedAndARepeatedKeyKeepsItsLastValue() =>
        Assert.Equal("""{"a":[1,"x"],"b":2}""", JsonCanonicalText.Of("""{ "b": 1, "a": [1.0, "x"], "b": 2.00 }"""));

    [Fact]
    public void TextThatIsNotJsonHasNoCanonicalForm() => Assert.Null(JsonCanonicalText.Of("{not json"));
}
