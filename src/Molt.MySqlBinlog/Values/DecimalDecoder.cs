using System.Globalization;
using System.Text;
using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Values;

/// <summary>
/// NEWDECIMAL's binary form: integer and fraction digits in groups of nine per 4 big-endian bytes, leftover digits in
/// fewer bytes; the sign bit is flipped and a negative number has every byte inverted. Decoded to exact text.
/// </summary>
internal static class DecimalDecoder
{
    private const int DigitsPerGroup = 9;
    private static readonly int[] LeftoverBytes = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

    public static int BinarySize(int precision, int scale)
    {
        var integer = precision - scale;
        return integer / DigitsPerGroup * 4 + LeftoverBytes[integer % DigitsPerGroup] + scale / DigitsPerGroup * 4 + LeftoverBytes[scale % DigitsPerGroup];
    }

    public static string Decode(ref PayloadReader reader, int precision, int scale)
    {
        if (precision is < 1 or > 65 || scale < 0 || scale > precision)
        {
            throw new BinlogException(BinlogErrorIds.UnsupportedColumn, $"DECIMAL({precision},{scale}) is not a valid decimal type.");
        }

        var bytes = reader.ReadBytes(BinarySize(precision, scale)).ToArray();
        var negative = (bytes[0] & 0x80) == 0;
        bytes[0] ^= 0x80;
        if (negative)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)~bytes[i];
            }
        }

        var integerDigits = precision - scale;
        var offset = 0;
        var integer = new StringBuilder();
        AppendDigits(integer, bytes, ref offset, integerDigits % DigitsPerGroup, integerDigits / DigitsPerGroup, leftoverFirst: true);
        var text = integer.ToString().TrimStart('0');
        var result = new StringBuilder();
        if (negative)
        {
            result.Append('-');
        }

        result.Append(text.Length == 0 ? "0" : text);
        if (scale > 0)
        {
            result.Append('.');
            AppendDigits(result, bytes, ref offset, scale % DigitsPerGroup, scale / DigitsPerGroup, leftoverFirst: false);
        }

        return result.ToString();
    }

    private static void AppendDigits(StringBuilder target, byte[] bytes, ref int offset, int leftoverDigits, int groups, bool leftoverFirst)
    {
        if (leftoverFirst)
        {
            AppendGroup(target, bytes, ref offset, leftoverDigits);
        }

        for (var i = 0; i < groups; i++)
        {
            AppendGroup(target, bytes, ref offset, DigitsPerGroup);
        }

        if (!leftoverFirst)
        {
            AppendGroup(target, bytes, ref offset, leftoverDigits);
        }
    }

    private static void AppendGroup(StringBuilder target, byte[] bytes, ref int offset, int digits)
    {
        if (digits == 0)
        {
            return;
        }

        var length = digits == DigitsPerGroup ? 4 : LeftoverBytes[digits];
        ulong value = 0;
        for (var i = 0; i < length; i++)
        {
            value = value << 8 | bytes[offset + i];
        }

        offset += length;
        target.Append(value.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0'));
    }
}
