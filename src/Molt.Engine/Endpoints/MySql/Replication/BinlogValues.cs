using Molt.Engine.Schema;
using Molt.MySqlBinlog.Values;

namespace Molt.Engine.Endpoints.MySql.Replication;

/// <summary>
/// Turns a value Molt.MySqlBinlog decoded into the <see cref="MySqlValue"/> the one MySQL value table takes, so a
/// streamed row goes through the same conversion as a loaded one. Only the binlog's forms are handled here; what they
/// become on the target is the value table's decision.
/// </summary>
internal static class BinlogValues
{
    /// <exception cref="MoltException">The binlog sent a value of a kind the column's type never has (the table changed under the plan).</exception>
    public static MySqlValue ToMySqlValue(object? value, ColumnModel column) => value switch
    {
        null => MySqlValue.Null,
        long signed when column.Type.IsUnsigned => MySqlValue.Of(Unsigned(signed, column)),
        long signed when column.Type.Name is "enum" => MySqlValue.Of((ulong)signed),
        long signed => MySqlValue.Of(signed),
        ulong unsigned => MySqlValue.Of(unsigned),
        float real => MySqlValue.Of(real),
        double real => MySqlValue.Of(real),
        // NEWDECIMAL's exact text: the value table takes it for any precision.
        string text when column.Type.Family == ColumnTypeFamily.Decimal => MySqlValue.OfDecimalText(text),
        string text => MySqlValue.Of(text),
        byte[] bytes => MySqlValue.Of(PadBinary(bytes, column)),
        MySqlDateTime date => MySqlValue.Of(new MySqlDateParts(date.Year, date.Month, date.Day, date.Hour, date.Minute, date.Second, date.Microsecond)),
        MySqlTimestamp timestamp => MySqlValue.Of(Parts(timestamp)),
        MySqlTime time => MySqlValue.Of(time.ToTimeSpan()),
        _ => throw new MoltException(MoltErrorKind.UnsupportedType, "UnexpectedBinlogValue",
            $"The binlog sent a {value.GetType().Name} for column {column.Name} ({column.Type.Declared}), which that type never holds.",
            "The source table no longer matches the load's plan: make the target match it, then resume the replication.") { Target = column.Name },
    };

    /// <summary>
    /// Without SIGNEDNESS metadata an integer arrives signed with its bits intact: the column's width tells how many of
    /// them are the unsigned value.
    /// </summary>
    private static ulong Unsigned(long value, ColumnModel column) => column.Type.Name switch
    {
        "tinyint" => (byte)value,
        "smallint" => (ushort)value,
        "mediumint" => (ulong)value & 0xFFFFFF,
        "int" or "integer" => (uint)value,
        _ => unchecked((ulong)value),
    };

    /// <summary>
    /// The binlog drops BINARY(n)'s trailing zero bytes; the library puts them back only when FULL metadata says the
    /// collation is binary, so the plan's length completes the rest, as the load reads them.
    /// </summary>
    private static byte[] PadBinary(byte[] bytes, ColumnModel column)
    {
        if (column.Type.Name != "binary" || column.Type.Length is not { } length || bytes.Length >= length)
        {
            return bytes;
        }

        var padded = new byte[length];
        bytes.CopyTo(padded, 0);
        return padded;
    }

    /// <summary>A TIMESTAMP is its UTC instant (the load reads with time_zone '+00:00'); the zero timestamp is the zero date.</summary>
    private static MySqlDateParts Parts(MySqlTimestamp timestamp)
    {
        if (timestamp.IsZero)
        {
            return new MySqlDateParts(0, 0, 0);
        }

        var at = timestamp.ToDateTimeOffset().UtcDateTime;
        return new MySqlDateParts(at.Year, at.Month, at.Day, at.Hour, at.Minute, at.Second, timestamp.Microseconds);
    }
}
