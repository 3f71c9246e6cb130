using System.Globalization;
using System.Text;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.MySql.Apply;

/// <summary>
/// Failback's values: a migration target's (PostgreSQL) value, as the change source sends it (its text under
/// DateStyle ISO, TimeZone UTC, IntervalStyle postgres, bytea_output hex), converted back into the original MySQL or
/// MariaDB column's type: the inverse of <see cref="MySqlValueTable"/> and the load's type mapping.
/// <list type="table">
/// <item><term>integers, YEAR</term><description>a <see cref="long"/> (<see cref="ulong"/> UNSIGNED); a boolean target's t/f as 1/0.</description></item>
/// <item><term>DECIMAL</term><description>its exact text; NaN and infinities are refused.</description></item>
/// <item><term>FLOAT, DOUBLE</term><description><see cref="float"/>, <see cref="double"/> (the text is the shortest exact one); NaN and infinities are refused.</description></item>
/// <item><term>BIT(n)</term><description>the bit string as a <see cref="ulong"/>.</description></item>
/// <item><term>DATE, DATETIME</term><description>the text; TIMESTAMP: the UTC instant's text (the apply session's time_zone is '+00:00').</description></item>
/// <item><term>zero dates</term><description>under <see cref="ZeroDateHandling.Sentinel"/> the sentinel comes back as the zero date;
/// NULL into a column that is NOT NULL on the original (loaded nullable by <see cref="ZeroDateHandling.DropNotNull"/>) as the zero
/// date; any other NULL as NULL (what <see cref="ZeroDateHandling.Null"/> loaded cannot be told from NULL).</description></item>
/// <item><term>TIME</term><description>the interval as [-]H:MM:SS.ffffff, days counted as 24 hours; months and years are refused.</description></item>
/// <item><term>BINARY, VARBINARY, BLOB</term><description>the bytea's bytes.</description></item>
/// <item><term>spatial</term><description>the geometry's (or bytea's) EWKB in MySQL's layout: SRID, then WKB.</description></item>
/// <item><term>text, ENUM, SET, JSON</term><description>the text (a SET's members comma-separated, as loaded).</description></item>
/// </list>
/// </summary>
internal static class MySqlFailbackValues
{
    private const string ZeroDate = "0000-00-00";
    private const string ZeroDateTime = "0000-00-00 00:00:00";

    /// <summary>
    /// The value to write into <paramref name="original"/> for <paramref name="text"/>, read from the target column
    /// <paramref name="target"/> (null: SQL NULL).
    /// </summary>
    /// <exception cref="MoltException"><c>FailbackValueUnconvertible</c>: the original type cannot hold the value.</exception>
    public static object Convert(string? text, ColumnModel target, ColumnModel original, ZeroDateHandling zeroDates)
    {
        var type = original.Type;
        if (text is null)
        {
            return !original.IsNullable && type.Family is ColumnTypeFamily.Date or ColumnTypeFamily.Timestamp ? ZeroOf(type) : DBNull.Value;
        }

        if (MySqlSpatial.IsSpatial(original))
        {
            // A geometry prints its EWKB in hex; a bytea (a target without PostGIS) holds the EWKB.
            return Spatial(target.Type.Name == "bytea" ? Bytea(text, original) : HexBytes(text, original), original);
        }

        if (target.Type.Name == "bytea")
        {
            return Bytea(text, original);
        }

        if (target.Type.Name == "boolean" && text is "t" or "f")
        {
            return text == "t" ? 1L : 0L;
        }

        return type.Name switch
        {
            "tinyint" or "smallint" or "mediumint" or "int" or "integer" or "bigint" or "year" => Integer(text, original),
            "decimal" or "numeric" => Decimal(text, original),
            "float" => Finite(float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture), text, original),
            "double" or "real" => Finite(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture), text, original),
            "bit" => Bits(text, original),
            "date" => Date(text, original, zeroDates),
            "datetime" => DateTimeText(text, original, zeroDates, utc: false),
            "timestamp" => DateTimeText(text, original, zeroDates, utc: true),
            "time" => Time(text, original),
            _ => text,
        };
    }

    private static object Integer(string text, ColumnModel original)
    {
        // numeric(20,0) holds BIGINT UNSIGNED on the target: its text has no fraction, but may be "18446744073709551615".
        if (original.Type.IsUnsigned && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var unsigned))
        {
            return unsigned;
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var signed)
            ? signed
            : throw Unconvertible(text, original, "it is not a whole number in its range");
    }

    private static string Decimal(string text, ColumnModel original) =>
        text is "NaN" or "Infinity" or "-Infinity" ? throw Unconvertible(text, original, "MySQL's DECIMAL has no NaN or infinity") : text;

    private static object Finite<T>(T value, string text, ColumnModel original) where T : System.Numerics.IFloatingPointIeee754<T> =>
        T.IsFinite(value) ? value : throw Unconvertible(text, original, "MySQL's floating point types have no NaN or infinity");

    /// <summary>A bit varying's text, most significant bit first.</summary>
    private static ulong Bits(string text, ColumnModel original)
    {
        if (text.Length > 64)
        {
            throw Unconvertible(text, original, "a MySQL BIT holds at most 64 bits");
        }

        ulong bits = 0;
        foreach (var c in text)
        {
            bits = (bits << 1) | (c switch { '0' => 0UL, '1' => 1UL, _ => throw Unconvertible(text, original, "it is not a bit string") });
        }

        return bits;
    }

    private static string Date(string text, ColumnModel original, ZeroDateHandling zeroDates)
    {
        CheckDate(text, original);
        return zeroDates == ZeroDateHandling.Sentinel && text == "0001-01-01" ? ZeroDate : text;
    }

    /// <summary>
    /// A timestamp's text without its offset (a timestamptz's converted to UTC first), as MySQL reads a DATETIME or
    /// TIMESTAMP literal.
    /// </summary>
    private static string DateTimeText(string text, ColumnModel original, ZeroDateHandling zeroDates, bool utc)
    {
        CheckDate(text, original);
        var local = text;
        // The offset follows the time part: the last sign after "yyyy-MM-dd hh".
        var sign = text.Length > 13 ? text.LastIndexOfAny(['+', '-'], text.Length - 1, text.Length - 13) : -1;
        if (sign > 0)
        {
            local = text[..sign];
            var offset = Offset(text[sign..], text, original);
            if (offset != TimeSpan.Zero || !utc)
            {
                var at = System.DateTime.ParseExact(local, ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFF"], CultureInfo.InvariantCulture, DateTimeStyles.None);
                local = Spell(at - offset);
            }
        }

        return zeroDates == ZeroDateHandling.Sentinel && local == "0001-01-01 00:00:00" ? ZeroDateTime : local;
    }

    /// <summary>A PostgreSQL UTC offset: +HH, +HH:MM or +HH:MM:SS.</summary>
    private static TimeSpan Offset(string offset, string text, ColumnModel original)
    {
        var parts = offset[1..].Split(':');
        if (parts.Length > 3 || !parts.All(p => p.Length == 2 && p.All(char.IsAsciiDigit)))
        {
            throw Unconvertible(text, original, "its time zone offset is not one PostgreSQL prints");
        }

        var span = new TimeSpan(int.Parse(parts[0], CultureInfo.InvariantCulture), parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 0,
            parts.Length > 2 ? int.Parse(parts[2], CultureInfo.InvariantCulture) : 0);
        return offset[0] == '-' ? -span : span;
    }

    private static string Spell(System.DateTime at) =>
        at.ToString(at.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    private static void CheckDate(string text, ColumnModel original)
    {
        if (text.EndsWith(" BC", StringComparison.Ordinal) || text.Contains("infinity", StringComparison.Ordinal) || text.Length < 10 || text[4] != '-')
        {
            throw Unconvertible(text, original, "MySQL dates span the years 0 to 9999 and have no infinity");
        }
    }

    /// <summary>
    /// An interval under IntervalStyle postgres ("838:59:59", "-12:34:56.789012", "1 day 02:00:00", "-1 days +02:00:00")
    /// as a MySQL TIME literal; the load writes a TIME as hours in the interval's time part.
    /// </summary>
    private static string Time(string text, ColumnModel original)
    {
        long micros = 0;
        var tokens = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < tokens.Length; i++)
        {
            var token = tokens[i];
            if (token.Contains(':', StringComparison.Ordinal))
            {
                micros += Clock(token, text, original);
            }
            else if (i + 1 < tokens.Length && tokens[i + 1].StartsWith("day", StringComparison.Ordinal)
                && long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var days))
            {
                micros += days * TimeSpan.TicksPerDay / TimeSpan.TicksPerMicrosecond;
                i++;
            }
            else
            {
                throw Unconvertible(text, original, "a MySQL TIME holds hours, minutes and seconds, not months or years");
            }
        }

        var builder = new StringBuilder();
        if (micros < 0)
        {
            builder.Append('-');
            micros = -micros;
        }

        var seconds = micros / 1_000_000;
        builder.Append(CultureInfo.InvariantCulture, $"{seconds / 3600}:{seconds / 60 % 60:D2}:{seconds % 60:D2}");
        if (micros % 1_000_000 != 0)
        {
            builder.Append(CultureInfo.InvariantCulture, $".{micros % 1_000_000:D6}");
        }

        return builder.ToString();
    }

    /// <summary>[+-]H:MM:SS[.ffffff] in microseconds.</summary>
    private static long Clock(string token, string text, ColumnModel original)
    {
        var negative = token[0] == '-';
        var parts = token.TrimStart('-', '+').Split(':');
        if (parts.Length != 3 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minutes)
            || !decimal.TryParse(parts[2], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
        {
            throw Unconvertible(text, original, "it is not an interval PostgreSQL prints");
        }

        var micros = (hours * 3600 + minutes * 60) * 1_000_000 + (long)(seconds * 1_000_000);
        return negative ? -micros : micros;
    }

    /// <summary>
    /// EWKB as MySQL stores a geometry: the SRID (4 bytes little-endian), then the WKB without EWKB's SRID flag and SRID
    /// (the inverse of <see cref="MySqlSpatial.ToEwkb"/>); MySQL has no Z or M coordinates.
    /// </summary>
    private static byte[] Spatial(byte[] ewkb, ColumnModel original)
    {
        const uint sridFlag = 0x20000000;
        if (ewkb.Length < 5 || ewkb[0] > 1)
        {
            throw Unconvertible("(geometry)", original, "it is not EWKB");
        }

        var little = ewkb[0] == 1;
        var type = little ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(ewkb.AsSpan(1))
            : System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(ewkb.AsSpan(1));
        if ((type & 0xC0000000) != 0)
        {
            throw Unconvertible("(geometry)", original, "MySQL geometries have no Z or M coordinates");
        }

        uint srid = 0;
        var wkb = ewkb;
        if ((type & sridFlag) != 0)
        {
            srid = little ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(ewkb.AsSpan(5))
                : System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(ewkb.AsSpan(5));
            wkb = [ewkb[0], 0, 0, 0, 0, .. ewkb[9..]];
            if (little)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(wkb.AsSpan(1), type & ~sridFlag);
            }
            else
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(wkb.AsSpan(1), type & ~sridFlag);
            }
        }

        var stored = new byte[4 + wkb.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(stored, srid);
        wkb.CopyTo(stored, 4);
        return stored;
    }

    private static byte[] HexBytes(string text, ColumnModel original)
    {
        try
        {
            return System.Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw Unconvertible("(geometry)", original, "it is not EWKB in hex");
        }
    }

    private static byte[] Bytea(string text, ColumnModel original) =>
        text.StartsWith("\\x", StringComparison.Ordinal) ? System.Convert.FromHexString(text.AsSpan(2))
            : throw Unconvertible("(bytes)", original, "the bytea is not in hex output");

    private static string ZeroOf(ColumnType type) => type.Name == "date" ? ZeroDate : ZeroDateTime;

    private static MoltException Unconvertible(string text, ColumnModel original, string why) =>
        new(MoltErrorKind.DataRejected, "FailbackValueUnconvertible",
            $"Column {original.Name} ({original.Type.Declared}) cannot hold the target's value '{(text.Length > 60 ? text[..60] + "..." : text)}': {why}.",
            "Change the row on the target to a value the original column can hold (or widen the original column), then start failback again.")
        {
            Target = original.Name,
        };
}
