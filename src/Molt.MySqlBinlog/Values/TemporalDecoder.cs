using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Values;

/// <summary>
/// The date and time layouts of row images: the 5.6.4+ big-endian bit-packed DATETIME2/TIME2/TIMESTAMP2 with fraction
/// bytes, and the older DATE, TIME, DATETIME and TIMESTAMP forms.
/// </summary>
internal static class TemporalDecoder
{
    private const long DateTimeIntegerOffset = 0x8000000000;
    private const long TimeIntegerOffset = 0x800000;
    private const long TimeOffset = 0x800000000000;

    public static MySqlDateTime Date(ref PayloadReader reader)
    {
        var value = reader.ReadUInt24();
        return new MySqlDateTime((int)(value >> 9), (int)(value >> 5 & 15), (int)(value & 31));
    }

    public static MySqlDateTime DateTime(ref PayloadReader reader)
    {
        var value = reader.ReadUInt64();
        var date = value / 1_000_000;
        var time = value % 1_000_000;
        return new MySqlDateTime((int)(date / 10000), (int)(date / 100 % 100), (int)(date % 100), (int)(time / 10000), (int)(time / 100 % 100), (int)(time % 100));
    }

    public static MySqlDateTime DateTime2(ref PayloadReader reader, int fsp)
    {
        var integer = (long)reader.ReadUIntBigEndian(5) - DateTimeIntegerOffset;
        var microseconds = (int)Fraction(ref reader, fsp);
        return FromPackedDateTime(integer, microseconds);
    }

    /// <summary>The integer part of a packed DATETIME: year*13+month (17 bits), day (5), hour (5), minute (6), second (6).</summary>
    public static MySqlDateTime FromPackedDateTime(long integer, int microseconds)
    {
        var ymd = integer >> 17;
        var ym = ymd >> 5;
        var hms = integer % (1 << 17);
        return new MySqlDateTime((int)(ym / 13), (int)(ym % 13), (int)(ymd % 32), (int)(hms >> 12), (int)((hms >> 6) & 63), (int)(hms % 64), microseconds);
    }

    public static MySqlTime Time(ref PayloadReader reader)
    {
        var raw = (int)reader.ReadUInt24();
        var value = raw << 8 >> 8;
        var magnitude = Math.Abs(value);
        return new MySqlTime(value < 0, magnitude / 10000, magnitude / 100 % 100, magnitude % 100);
    }

    public static MySqlTime Time2(ref PayloadReader reader, int fsp)
    {
        long packed;
        switch (fsp)
        {
            case 0:
                packed = ((long)reader.ReadUIntBigEndian(3) - TimeIntegerOffset) << 24;
                break;
            case 1 or 2:
            {
                var integer = (long)reader.ReadUIntBigEndian(3) - TimeIntegerOffset;
                long fraction = reader.ReadByte();
                // A negative time stores its fraction as the complement: borrow one second back.
                if (integer < 0 && fraction != 0)
                {
                    integer++;
                    fraction -= 0x100;
                }

                packed = (integer << 24) + fraction * 10000;
                break;
            }

            case 3 or 4:
            {
                var integer = (long)reader.ReadUIntBigEndian(3) - TimeIntegerOffset;
                var fraction = (long)reader.ReadUIntBigEndian(2);
                if (integer < 0 && fraction != 0)
                {
                    integer++;
                    fraction -= 0x10000;
                }

                packed = (integer << 24) + fraction * 100;
                break;
            }

            case 5 or 6:
                packed = (long)reader.ReadUIntBigEndian(6) - TimeOffset;
                break;
            default:
                throw new BinlogException(BinlogErrorIds.UnsupportedColumn, $"TIME({fsp}) has no binary layout.");
        }

        return FromPackedTime(packed);
    }

    /// <summary>A packed TIME: sign, then hours (10 bits), minutes (6), seconds (6) above 24 bits of microseconds.</summary>
    public static MySqlTime FromPackedTime(long packed)
    {
        var negative = packed < 0;
        var magnitude = Math.Abs(packed);
        var hms = magnitude >> 24;
        return new MySqlTime(negative, (int)(hms >> 12 & 0x3FF), (int)(hms >> 6 & 63), (int)(hms & 63), (int)(magnitude % (1 << 24)));
    }

    public static MySqlTimestamp Timestamp(ref PayloadReader reader) => new(reader.ReadUInt32());

    public static MySqlTimestamp Timestamp2(ref PayloadReader reader, int fsp)
    {
        var seconds = (long)reader.ReadUIntBigEndian(4);
        return new MySqlTimestamp(seconds, (int)Fraction(ref reader, fsp));
    }

    public static long Year(ref PayloadReader reader)
    {
        var value = reader.ReadByte();
        return value == 0 ? 0 : 1900 + value;
    }

    /// <summary>Fraction bytes: 1 for fsp 1-2 (hundredths), 2 for 3-4, 3 for 5-6, big-endian; returned in microseconds.</summary>
    private static long Fraction(ref PayloadReader reader, int fsp) => fsp switch
    {
        0 => 0,
        1 or 2 => (long)reader.ReadUIntBigEndian(1) * 10000,
        3 or 4 => (long)reader.ReadUIntBigEndian(2) * 100,
        5 or 6 => (long)reader.ReadUIntBigEndian(3),
        _ => throw new BinlogException(BinlogErrorIds.UnsupportedColumn, $"A fractional precision of {fsp} has no binary layout."),
    };
}
