using System.Data.Common;
using System.Globalization;
using Molt.Engine.Schema;

namespace Molt.Engine.Verify;

/// <summary>
/// Orders primary-key values the way both sides' ORDER BY does: numbers by value (DECIMAL keys arrive as text, every
/// digit kept), text by code point.
/// </summary>
internal static class KeyComparer
{
    public static int Compare(DbDataReader left, DbDataReader right, IReadOnlyList<ColumnModel> key)
    {
        for (var i = 0; i < key.Count; i++)
        {
            var (leftValue, rightValue) = (left.IsDBNull(i) ? null : left.GetValue(i), right.IsDBNull(i) ? null : right.GetValue(i));
            var order = VerifySide.IsDecimal(key[i]) && leftValue is string leftText && rightValue is string rightText
                ? DecimalTextComparer.Instance.Compare(leftText, rightText)
                : Compare(leftValue, rightValue);
            if (order != 0)
            {
                return order;
            }
        }

        return 0;
    }

    public static int Compare(object? left, object? right) => (left, right) switch
    {
        (null, null) => 0,
        (null, _) => -1,
        (_, null) => 1,
        (string a, string b) => CodePointComparer.Instance.Compare(a, b),
        _ when IsNumber(left) && IsNumber(right) => Convert.ToDecimal(left, CultureInfo.InvariantCulture).CompareTo(Convert.ToDecimal(right, CultureInfo.InvariantCulture)),
        (DateTime a, DateTime b) => a.CompareTo(b),
        (byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b),
        _ => CodePointComparer.Instance.Compare(ValueNormalizer.Normalize(left, ColumnKind.Plain), ValueNormalizer.Normalize(right, ColumnKind.Plain)),
    };

    private static bool IsNumber(object value) => value is sbyte or byte or short or ushort or int or uint or long or ulong or decimal;
}
