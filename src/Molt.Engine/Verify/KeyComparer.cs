using System.Data.Common;
using System.Globalization;
using Molt.Engine.Schema;
using MySqlConnector;

namespace Molt.Engine.Verify;

/// <summary>
/// Orders primary-key values the way both sides' ORDER BY does: numbers, dates and times by value (DECIMAL keys arrive
/// as text, every digit kept), text by code point.
/// </summary>
internal static class KeyComparer
{
    public static int Compare(DbDataReader left, DbDataReader right, IReadOnlyList<ColumnModel> key)
    {
        for (var i = 0; i < key.Count; i++)
        {
            var (leftValue, rightValue) = (left.IsDBNull(i) ? null : left.GetValue(i), right.IsDBNull(i) ? null : right.GetValue(i));
            // A numeric key arrives as text; the other side's may be an integer (BIGINT UNSIGNED loaded as numeric(20,0)).
            var order = (leftValue, rightValue) switch
            {
                (string a, string b) when VerifySide.IsDecimal(key[i]) => DecimalTextComparer.Instance.Compare(a, b),
                (string a, { } b) when IsInteger(b) => DecimalTextComparer.Instance.Compare(a, Invariant(b)),
                ({ } a, string b) when IsInteger(a) => DecimalTextComparer.Instance.Compare(Invariant(a), b),
                _ => Compare(leftValue, rightValue),
            };
            if (order != 0)
            {
                return order;
            }
        }

        return 0;
    }

    public static int Compare(object? left, object? right) => (Comparable(left), Comparable(right)) switch
    {
        (null, null) => 0,
        (null, _) => -1,
        (_, null) => 1,
        (string a, string b) => CodePointComparer.Instance.Compare(a, b),
        (double a, double b) => Floats(a, b),
        // The common keys first: by value, without the decimal widening below.
        (long a, long b) => a.CompareTo(b),
        (int a, int b) => a.CompareTo(b),
        var (a, b) when IsInteger(a) && IsInteger(b) => Convert.ToDecimal(a, CultureInfo.InvariantCulture).CompareTo(Convert.ToDecimal(b, CultureInfo.InvariantCulture)),
        (DateTime a, DateTime b) => a.CompareTo(b),
        (TimeSpan a, TimeSpan b) => a.CompareTo(b),
        (byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b),
        var (a, b) => CodePointComparer.Instance.Compare(ValueNormalizer.Normalize(a, ColumnKind.Plain), ValueNormalizer.Normalize(b, ColumnKind.Plain)),
    };

    /// <summary>
    /// The value in the one form both drivers' readings of a type share: a MariaDB DATE (MySqlDateTime) and a
    /// PostgreSQL date (DateOnly) as DateTime, a TIME and a time as TimeSpan, every float as a double.
    /// </summary>
    private static object? Comparable(object? value) => value switch
    {
        null or DBNull => null,
        MySqlDateTime { IsValidDateTime: true } date => date.GetDateTime(),
        DateOnly date => date.ToDateTime(TimeOnly.MinValue),
        DateTimeOffset instant => instant.UtcDateTime,
        TimeOnly time => time.ToTimeSpan(),
        float number => (double)number,
        _ => value,
    };

    /// <summary>By value, NaN after every number as PostgreSQL orders it.</summary>
    private static int Floats(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.IsNaN(a).CompareTo(double.IsNaN(b)) : a.CompareTo(b);

    private static string Invariant(object number) => Convert.ToString(number, CultureInfo.InvariantCulture)!;

    private static bool IsInteger(object value) => value is sbyte or byte or short or ushort or int or uint or long or ulong or decimal;
}
