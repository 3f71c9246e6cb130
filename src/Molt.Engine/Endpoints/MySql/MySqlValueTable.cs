using System.Collections;
using System.Globalization;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using NpgsqlTypes;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// The one place that decides what a MySQL/MariaDB value becomes on a pgwire target (PostgreSQL, CockroachDB): per
/// column, from its source type and the target column's wire type, a <see cref="MySqlColumnConverter"/> whose sinks
/// (binary COPY, CSV text, statement parameter) spell the same target value. The load's data reader and the binlog's
/// decoded rows both feed it a <see cref="MySqlValue"/>; per MySQL type the input it takes is:
/// <list type="table">
/// <item><term>TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT</term><description><see cref="long"/>; UNSIGNED: <see cref="ulong"/>.</description></item>
/// <item><term>YEAR</term><description><see cref="long"/> (0 for the year 0000).</description></item>
/// <item><term>BIT(n)</term><description><see cref="ulong"/>, the lowest n bits.</description></item>
/// <item><term>DECIMAL(p,s)</term><description><see cref="decimal"/> for p up to 28, else its exact text
/// (<see cref="MySqlValue.OfDecimalText"/>); either is taken for any p.</description></item>
/// <item><term>FLOAT, DOUBLE</term><description><see cref="float"/>, <see cref="double"/>.</description></item>
/// <item><term>CHAR, VARCHAR, TEXT</term><description><see cref="string"/>, or the bytes in the column's character set
/// (utf8mb4, utf8mb3, latin1 as MySQL's cp1252, ascii, utf16, utf32).</description></item>
/// <item><term>ENUM</term><description>the label as <see cref="string"/>, or its 1-based index as <see cref="ulong"/> (0: the empty error value).</description></item>
/// <item><term>SET</term><description>the labels comma-separated as <see cref="string"/>, or the member bitmap as <see cref="ulong"/>.</description></item>
/// <item><term>BINARY, VARBINARY, BLOB</term><description><see cref="byte"/>[], never decoded as text.</description></item>
/// <item><term>GEOMETRY, POINT, POLYGON...</term><description><see cref="byte"/>[] in MySQL's layout (SRID, then WKB), written as EWKB
/// (<see cref="MySqlSpatial"/>) into a geometry or a bytea column.</description></item>
/// <item><term>DATE, DATETIME, TIMESTAMP</term><description><see cref="MySqlDateParts"/>, zero dates included; a TIMESTAMP as its UTC instant.</description></item>
/// <item><term>TIME</term><description><see cref="TimeSpan"/>, negative and beyond 24 hours allowed.</description></item>
/// <item><term>JSON</term><description>its JSON text as <see cref="string"/> (MySQL's binary JSON converted to text first).</description></item>
/// </list>
/// </summary>
internal static class MySqlValueTable
{
    /// <summary>Every DECIMAL(p,s) with p up to 28 fits .NET's decimal exactly; wider ones travel as text.</summary>
    public const int MaxBinaryDecimalDigits = 28;

    public static MySqlColumnConverter For(TargetColumn column, ZeroDateHandling zeroDates)
    {
        var source = column.Source.Type;
        var name = column.Source.Name;
        var wire = column.Type.WireType;
        return wire switch
        {
            "boolean" => new MySqlColumnConverter<bool>(wire, Boolean(name), TargetForms.Boolean),
            "smallint" => new MySqlColumnConverter<short>(wire, Integer(name, wire, short.MinValue, short.MaxValue, v => (short)v), TargetForms.Int16),
            "integer" => new MySqlColumnConverter<int>(wire, Integer(name, wire, int.MinValue, int.MaxValue, v => (int)v), TargetForms.Int32),
            "bigint" => new MySqlColumnConverter<long>(wire, Integer(name, wire, long.MinValue, long.MaxValue, v => v), TargetForms.Int64),
            "numeric" when source.Name is "decimal" or "numeric" && source.Precision > MaxBinaryDecimalDigits =>
                new MySqlColumnConverter<string>(wire, WideDecimal(name), TargetForms.NumericText),
            "numeric" => new MySqlColumnConverter<decimal>(wire, Decimal(name), TargetForms.Numeric),
            "real" => new MySqlColumnConverter<float>(wire, Real(name), TargetForms.Real),
            "double precision" => new MySqlColumnConverter<double>(wire, Double(name), TargetForms.Double),
            "bit varying" or "bit" => new MySqlColumnConverter<BitArray>(wire, Bits(name, source.Name == "bit" ? source.Length ?? 64 : 64), TargetForms.Bits),
            "date" => new MySqlColumnConverter<DateTime>(wire, Dates(column, zeroDates, DateTimeKind.Unspecified, asDate: true), TargetForms.Date),
            "timestamp without time zone" =>
                new MySqlColumnConverter<DateTime>(wire, Dates(column, zeroDates, DateTimeKind.Unspecified, asDate: false), TargetForms.Timestamp),
            // The load reads with time_zone '+00:00' and the binlog stores seconds since the epoch: a TIMESTAMP is a UTC instant.
            "timestamp with time zone" =>
                new MySqlColumnConverter<DateTime>(wire, Dates(column, zeroDates, DateTimeKind.Utc, asDate: false), TargetForms.TimestampTz),
            "interval" => new MySqlColumnConverter<NpgsqlInterval>(wire, Interval(name), TargetForms.Interval),
            "geometry" => new MySqlColumnConverter<byte[]>(wire, Spatial(name), TargetForms.Geometry),
            "bytea" when MySqlSpatial.IsSpatial(column.Source) => new MySqlColumnConverter<byte[]>(wire, Spatial(name), TargetForms.Bytea),
            "bytea" => new MySqlColumnConverter<byte[]>(wire, Bytes(name), TargetForms.Bytea),
            // text, character varying, json, jsonb, and any type a type-map file names: the value in its text form.
            _ => new MySqlColumnConverter<string>(wire, Text(column.Source), TargetForms.Text),
        };
    }

    private static Conversion<bool> Boolean(string column) => (in MySqlValue value, out bool result) =>
    {
        result = false;
        if (value.IsNull)
        {
            return false;
        }

        var number = AsInt128(value, column, "boolean");
        if (number != 0 && number != 1)
        {
            throw new RowRejectedException(column, $"{number} is neither 0 nor 1, so it is not a boolean");
        }

        result = number == 1;
        return true;
    };

    private static Conversion<T> Integer<T>(string column, string wire, long min, long max, Func<long, T> narrow) => (in MySqlValue value, out T result) =>
    {
        result = default!;
        if (value.IsNull)
        {
            return false;
        }

        var number = AsInt128(value, column, wire);
        result = number >= min && number <= max
            ? narrow((long)number)
            : throw new RowRejectedException(column, $"{number} does not fit the target's {wire}");
        return true;
    };

    /// <summary>An integer input as one type that holds both BIGINT and BIGINT UNSIGNED.</summary>
    private static Int128 AsInt128(in MySqlValue value, string column, string wire) => value.Kind switch
    {
        MySqlValueKind.Signed => value.Signed,
        MySqlValueKind.Unsigned => value.Unsigned,
        MySqlValueKind.Decimal when decimal.IsInteger(value.Decimal) => (Int128)value.Decimal,
        MySqlValueKind.DecimalText or MySqlValueKind.Text when Int128.TryParse(value.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => throw Unconvertible(value, column, wire),
    };

    private static Conversion<decimal> Decimal(string column) => (in MySqlValue value, out decimal result) =>
    {
        result = value.Kind switch
        {
            MySqlValueKind.Null => 0,
            MySqlValueKind.Decimal => value.Decimal,
            MySqlValueKind.Signed => value.Signed,
            MySqlValueKind.Unsigned => value.Unsigned,
            MySqlValueKind.Float or MySqlValueKind.Double => (decimal)value.Double,
            MySqlValueKind.DecimalText or MySqlValueKind.Text => decimal.Parse(value.Text, NumberStyles.Number, CultureInfo.InvariantCulture),
            _ => throw Unconvertible(value, column, "numeric"),
        };
        return !value.IsNull;
    };

    private static Conversion<string> WideDecimal(string column) => (in MySqlValue value, out string result) =>
    {
        result = value.Kind switch
        {
            MySqlValueKind.Null => "",
            MySqlValueKind.DecimalText => value.Text,
            MySqlValueKind.Decimal => value.Decimal.ToString(CultureInfo.InvariantCulture),
            MySqlValueKind.Signed => value.Signed.ToString(CultureInfo.InvariantCulture),
            MySqlValueKind.Unsigned => value.Unsigned.ToString(CultureInfo.InvariantCulture),
            _ => throw Unconvertible(value, column, "numeric"),
        };
        return !value.IsNull;
    };

    private static Conversion<float> Real(string column) => (in MySqlValue value, out float result) =>
    {
        result = value.Kind switch
        {
            MySqlValueKind.Null => 0,
            MySqlValueKind.Float => value.Float,
            MySqlValueKind.Double => (float)value.Double,
            MySqlValueKind.Signed => value.Signed,
            MySqlValueKind.Unsigned => value.Unsigned,
            MySqlValueKind.Decimal => (float)value.Decimal,
            _ => throw Unconvertible(value, column, "real"),
        };
        return !value.IsNull;
    };

    private static Conversion<double> Double(string column) => (in MySqlValue value, out double result) =>
    {
        result = value.Kind switch
        {
            MySqlValueKind.Null => 0,
            MySqlValueKind.Double => value.Double,
            MySqlValueKind.Float => value.Float,
            MySqlValueKind.Signed => value.Signed,
            MySqlValueKind.Unsigned => value.Unsigned,
            MySqlValueKind.Decimal => (double)value.Decimal,
            _ => throw Unconvertible(value, column, "double precision"),
        };
        return !value.IsNull;
    };

    /// <summary>BIT(n): the lowest n bits of the integer, most significant first.</summary>
    private static Conversion<BitArray> Bits(string column, int length) => (in MySqlValue value, out BitArray result) =>
    {
        result = null!;
        if (value.IsNull)
        {
            return false;
        }

        var bits = value.Kind is MySqlValueKind.Unsigned or MySqlValueKind.Signed ? value.Unsigned : throw Unconvertible(value, column, "bit varying");
        result = new BitArray(length);
        for (var i = 0; i < length; i++)
        {
            result[i] = ((bits >> (length - 1 - i)) & 1) == 1;
        }

        return true;
    };

    /// <summary>
    /// A valid date as a DateTime of <paramref name="kind"/> (the date alone for a DATE target). A zero date becomes NULL
    /// under Null and DropNotNull where the target column takes it, <see cref="ZeroDateSentinel.Value"/> under Sentinel,
    /// and otherwise rejects the row: under Reject, or a NOT NULL column that held no zero date when the load was planned.
    /// </summary>
    private static Conversion<DateTime> Dates(TargetColumn column, ZeroDateHandling handling, DateTimeKind kind, bool asDate)
    {
        var name = column.Source.Name;
        var zeroAsNull = handling is ZeroDateHandling.Null or ZeroDateHandling.DropNotNull && column.IsNullable;
        var sentinel = DateTime.SpecifyKind(ZeroDateSentinel.Value, kind);
        return (in MySqlValue value, out DateTime result) =>
        {
            result = default;
            if (value.IsNull)
            {
                return false;
            }

            var parts = value.Kind == MySqlValueKind.DateTime ? value.Date : throw Unconvertible(value, name, asDate ? "date" : "timestamp");
            if (parts.IsValid)
            {
                var date = parts.ToDateTime(kind);
                result = asDate ? date.Date : date;
                return true;
            }

            if (zeroAsNull)
            {
                return false;
            }

            result = handling switch
            {
                ZeroDateHandling.Sentinel => sentinel,
                ZeroDateHandling.Reject => throw new RowRejectedException(name,
                    $"the zero date {parts.DateText} has no equivalent on the target (-ZeroDateHandling Reject)"),
                _ => throw new RowRejectedException(name,
                    $"the zero date {parts.DateText} would load as NULL, which the NOT NULL target column refuses; it was written after the load was " +
                    "planned (-ZeroDateHandling DropNotNull or Sentinel loads it)"),
            };
            return true;
        };
    }

    /// <summary>All in the interval's time part (no days), so '-838:59:59' reads back as it was written.</summary>
    private static Conversion<NpgsqlInterval> Interval(string column) => (in MySqlValue value, out NpgsqlInterval result) =>
    {
        result = default;
        if (value.IsNull)
        {
            return false;
        }

        result = value.Kind == MySqlValueKind.Time
            ? new NpgsqlInterval(0, 0, value.Time.Ticks / TimeSpan.TicksPerMicrosecond)
            : throw Unconvertible(value, column, "interval");
        return true;
    };

    private static Conversion<byte[]> Bytes(string column) => (in MySqlValue value, out byte[] result) =>
    {
        result = value.Kind switch
        {
            MySqlValueKind.Null => [],
            MySqlValueKind.Bytes => value.Bytes,
            MySqlValueKind.Text => System.Text.Encoding.UTF8.GetBytes(value.Text),
            _ => throw Unconvertible(value, column, "bytea"),
        };
        return !value.IsNull;
    };

    private static Conversion<byte[]> Spatial(string column) => (in MySqlValue value, out byte[] result) =>
    {
        try
        {
            result = value.Kind switch
            {
                MySqlValueKind.Null => [],
                MySqlValueKind.Bytes => MySqlSpatial.ToEwkb(value.Bytes),
                _ => throw Unconvertible(value, column, "geometry"),
            };
        }
        catch (FormatException ex)
        {
            throw new RowRejectedException(column, ex.Message);
        }

        return !value.IsNull;
    };

    /// <summary>
    /// The value's text: labels for an ENUM's index or a SET's bitmap, a text column's bytes in its character set, a FLOAT
    /// with the digits of its own precision, dates and times as MySQL spells them.
    /// </summary>
    private static Conversion<string> Text(ColumnModel source)
    {
        var name = source.Name;
        var type = source.Type;
        var labels = type.EnumValues ?? [];
        var isEnum = type.Name == "enum";
        var isSet = type.Name == "set";
        var isDate = type.Name == "date";
        return (in MySqlValue value, out string result) =>
        {
            result = value.Kind switch
            {
                MySqlValueKind.Null => "",
                MySqlValueKind.Text or MySqlValueKind.DecimalText => value.Text,
                MySqlValueKind.Bytes => MySqlCharsets.Decode(value.Bytes, type.CharacterSet, name),
                MySqlValueKind.Unsigned when isEnum => EnumLabel(labels, value.Unsigned, name),
                MySqlValueKind.Unsigned when isSet => SetLabels(labels, value.Unsigned),
                MySqlValueKind.Signed => value.Signed.ToString(CultureInfo.InvariantCulture),
                MySqlValueKind.Unsigned => value.Unsigned.ToString(CultureInfo.InvariantCulture),
                MySqlValueKind.Decimal => value.Decimal.ToString(CultureInfo.InvariantCulture),
                MySqlValueKind.Float => value.Float.ToString("R", CultureInfo.InvariantCulture),
                MySqlValueKind.Double => value.Double.ToString("R", CultureInfo.InvariantCulture),
                MySqlValueKind.DateTime => isDate ? value.Date.DateText : value.Date.DateTimeText,
                MySqlValueKind.Time => TargetForms.TimeText(value.Time.Ticks / TimeSpan.TicksPerMicrosecond),
                _ => throw Unconvertible(value, name, "text"),
            };
            return !value.IsNull;
        };
    }

    /// <summary>An ENUM's 1-based index; 0 is the empty string MySQL stores for a value it could not match.</summary>
    private static string EnumLabel(IReadOnlyList<string> labels, ulong index, string column) =>
        index == 0 ? "" : index <= (ulong)labels.Count ? labels[(int)index - 1]
            : throw new RowRejectedException(column, $"the ENUM index {index} is beyond its {labels.Count} members");

    /// <summary>A SET's members in declaration order, comma-separated as MySQL returns them.</summary>
    private static string SetLabels(IReadOnlyList<string> labels, ulong bitmap) =>
        string.Join(',', labels.Where((_, i) => i < 64 && ((bitmap >> i) & 1) == 1));

    private static MoltException Unconvertible(in MySqlValue value, string column, string wire) =>
        new(MoltErrorKind.UnsupportedType, "UnconvertibleValue",
            $"Column {column}: a MySQL {value.Kind} value cannot be written as the target's {wire}.",
            "Map the column to a type that holds its values in the type-map file.");
}
