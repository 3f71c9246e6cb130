namespace Molt.Engine.Verify;

/// <summary>
/// Orders decimal numbers held as text ("-12.50", "7"), with every digit, by value; PostgreSQL's special values sort as
/// it sorts them: -Infinity first, then numbers, then Infinity, then NaN. Text keeps DECIMAL(65,30) keys whole, which
/// .NET's 28-digit decimal cannot hold.
/// </summary>
internal sealed class DecimalTextComparer : IComparer<string>
{
    public static DecimalTextComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        var (left, right) = (Rank(x), Rank(y));
        if (left != 0 || right != 0)
        {
            return left.CompareTo(right);
        }

        var (leftNegative, leftInteger, leftFraction) = Parts(x);
        var (rightNegative, rightInteger, rightFraction) = Parts(y);
        // -0 is 0.
        leftNegative &= leftInteger.Length + leftFraction.Length > 0;
        rightNegative &= rightInteger.Length + rightFraction.Length > 0;
        if (leftNegative != rightNegative)
        {
            return leftNegative ? -1 : 1;
        }

        var magnitude = leftInteger.Length != rightInteger.Length ? leftInteger.Length.CompareTo(rightInteger.Length)
            : leftInteger.Span.SequenceCompareTo(rightInteger.Span) is var integer and not 0 ? integer
            : leftFraction.Span.SequenceCompareTo(rightFraction.Span);
        return Math.Sign(magnitude) * (leftNegative ? -1 : 1);
    }

    /// <summary>-1 for -Infinity, 0 for a number, 1 for Infinity, 2 for NaN.</summary>
    private static int Rank(string value) => value switch
    {
        "-Infinity" => -1,
        "Infinity" => 1,
        "NaN" => 2,
        _ => 0,
    };

    /// <summary>The sign, the integer digits without leading zeros and the fraction digits without trailing zeros.</summary>
    private static (bool Negative, ReadOnlyMemory<char> Integer, ReadOnlyMemory<char> Fraction) Parts(string value)
    {
        var text = value.AsMemory().Trim();
        var negative = text.Span.StartsWith("-");
        if (negative || text.Span.StartsWith("+"))
        {
            text = text[1..];
        }

        var point = text.Span.IndexOf('.');
        var integer = point < 0 ? text : text[..point];
        var fraction = point < 0 ? ReadOnlyMemory<char>.Empty : text[(point + 1)..];
        return (negative, integer.TrimStart('0'), fraction.TrimEnd('0'));
    }
}
