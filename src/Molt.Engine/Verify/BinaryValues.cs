using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Molt.Engine.Verify;

/// <summary>
/// The few decodings the fast path needs from PostgreSQL's binary send formats: key values (for the merge's report and
/// re-reads), and the values whose equal forms may differ in bytes, as the text the slow path would compare.
/// </summary>
internal static class BinaryValues
{
    /// <summary>Orders two keys' bytes as both sides' ORDER BY ordered them.</summary>
    public static int CompareKey(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, BinaryKeyKind kind) => kind switch
    {
        BinaryKeyKind.SignedInteger => SignedInteger(left).CompareTo(SignedInteger(right)),
        _ => left.SequenceCompareTo(right),
    };

    /// <summary>A key as the slow path's reader returns it, so that it is shown and bound alike.</summary>
    public static object KeyValue(ReadOnlySpan<byte> value, BinaryKeyKind kind) => kind switch
    {
        BinaryKeyKind.SignedInteger => value.Length switch
        {
            2 => BinaryPrimitives.ReadInt16BigEndian(value),
            4 => BinaryPrimitives.ReadInt32BigEndian(value),
            _ => (object)BinaryPrimitives.ReadInt64BigEndian(value),
        },
        BinaryKeyKind.Uuid => new Guid(value, bigEndian: true),
        _ => Encoding.UTF8.GetString(value),
    };

    /// <summary>A value of a decoded kind as the slow path reads it (numeric as its text, floats as numbers, json as text), normalised.</summary>
    public static string Normalized(ReadOnlySpan<byte> value, BinaryValueKind kind, ColumnKind columnKind) => kind switch
    {
        BinaryValueKind.Numeric => ValueNormalizer.Normalize(NumericText(value), columnKind)!,
        BinaryValueKind.Single => ValueNormalizer.Normalize(BinaryPrimitives.ReadSingleBigEndian(value), columnKind)!,
        BinaryValueKind.Double => ValueNormalizer.Normalize(BinaryPrimitives.ReadDoubleBigEndian(value), columnKind)!,
        // jsonb's first byte is its format version (1: the text follows).
        BinaryValueKind.Jsonb => ValueNormalizer.Normalize(Encoding.UTF8.GetString(value[1..]), columnKind)!,
        BinaryValueKind.Json => ValueNormalizer.Normalize(Encoding.UTF8.GetString(value), columnKind)!,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Exact values are compared as bytes."),
    };

    /// <summary>
    /// numeric's binary form as numeric_out writes it: a count of base-10000 digits, the weight of the first, a sign (or
    /// NaN, Infinity, -Infinity), the display scale, then the digits.
    /// </summary>
    public static string NumericText(ReadOnlySpan<byte> value)
    {
        var count = BinaryPrimitives.ReadInt16BigEndian(value);
        var weight = BinaryPrimitives.ReadInt16BigEndian(value[2..]);
        var sign = BinaryPrimitives.ReadUInt16BigEndian(value[4..]);
        var scale = BinaryPrimitives.ReadInt16BigEndian(value[6..]);
        switch (sign)
        {
            case 0xC000:
                return "NaN";
            case 0xD000:
                return "Infinity";
            case 0xF000:
                return "-Infinity";
        }

        var digits = new short[count];
        for (var i = 0; i < count; i++)
        {
            digits[i] = BinaryPrimitives.ReadInt16BigEndian(value[(8 + 2 * i)..]);
        }

        int Digit(int index) => index >= 0 && index < count ? digits[index] : 0;
        var text = new StringBuilder(count * 4 + 8);
        if (sign == 0x4000)
        {
            text.Append('-');
        }

        if (weight < 0)
        {
            text.Append('0');
        }
        else
        {
            text.Append(Digit(0).ToString(CultureInfo.InvariantCulture));
            for (var i = 1; i <= weight; i++)
            {
                text.Append(Digit(i).ToString("D4", CultureInfo.InvariantCulture));
            }
        }

        if (scale > 0)
        {
            text.Append('.');
            var fraction = new StringBuilder(scale + 4);
            for (var i = weight + 1; fraction.Length < scale; i++)
            {
                fraction.Append(Digit(i).ToString("D4", CultureInfo.InvariantCulture));
            }

            text.Append(fraction.ToString(0, scale));
        }

        return text.ToString();
    }

    private static long SignedInteger(ReadOnlySpan<byte> value) => value.Length switch
    {
        2 => BinaryPrimitives.ReadInt16BigEndian(value),
        4 => BinaryPrimitives.ReadInt32BigEndian(value),
        _ => BinaryPrimitives.ReadInt64BigEndian(value),
    };
}
