using System.Data.Common;
using System.Globalization;
using System.Text;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using MySqlConnector;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// Per column, a MySQL/MariaDB value in the text form its CockroachDB column parses from IMPORT INTO's CSV; null for
/// SQL NULL. The same conversions as <see cref="MySqlColumnWriters"/>, spelled as text.
/// </summary>
internal static class MySqlCsvValues
{
    private const string Timestamp = "yyyy-MM-dd HH:mm:ss.ffffff";

    public static Func<DbDataReader, int, string?> For(TargetColumn column, ZeroDateHandling zeroDates)
    {
        var source = column.Source.Type;
        var name = column.Source.Name;
        return (source.Name, column.Type.WireType) switch
        {
            (_, "boolean") => (reader, i) => Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture) switch
            {
                0 => "false",
                1 => "true",
                var other => throw new RowRejectedException(name, $"{other} is neither 0 nor 1, so it is not a boolean"),
            },
            ("date", "date") => (reader, i) => Date(reader, i, column, zeroDates)?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ("datetime", _) => (reader, i) => Date(reader, i, column, zeroDates)?.ToString(Timestamp, CultureInfo.InvariantCulture),
            // The reader's session time zone is UTC: the value is the UTC instant.
            ("timestamp", _) => (reader, i) => Date(reader, i, column, zeroDates) is { } instant
                ? instant.ToString(Timestamp, CultureInfo.InvariantCulture) + "+00:00"
                : null,
            ("time", _) => (reader, i) => Time(reader.GetFieldValue<TimeSpan>(i)),
            ("bit", _) => (reader, i) => Bits(Convert.ToUInt64(reader.GetValue(i), CultureInfo.InvariantCulture), source.Length ?? 64),
            // Exact text: no 28-digit limit as on the COPY path.
            (_, "numeric") => (reader, i) => reader is MySqlDataReader mysql && reader.GetFieldType(i) == typeof(decimal)
                ? mysql.GetMySqlDecimal(i).ToString()
                : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture),
            (_, "real") => (reader, i) => reader.GetFloat(i).ToString("R", CultureInfo.InvariantCulture),
            (_, "double precision") => (reader, i) => reader.GetDouble(i).ToString("R", CultureInfo.InvariantCulture),
            ("float", "text" or "character varying") => (reader, i) => reader.GetFloat(i).ToString("R", CultureInfo.InvariantCulture),
            (_, "bytea") => (reader, i) => "\\x" + Convert.ToHexString(reader.GetFieldValue<byte[]>(i)).ToLowerInvariant(),
            _ => (reader, i) => reader.GetValue(i) switch
            {
                string text => text,
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                var other => other.ToString(),
            },
        };
    }

    /// <summary>A valid date; for a zero date null, the sentinel, or the row is rejected (<see cref="MySqlZeroDates"/>).</summary>
    private static DateTime? Date(DbDataReader reader, int ordinal, TargetColumn column, ZeroDateHandling zeroDates) => reader.GetValue(ordinal) switch
    {
        DateTime dateTime => dateTime,
        MySqlDateTime { IsValidDateTime: true } valid => valid.GetDateTime(),
        MySqlDateTime when MySqlZeroDates.LoadAsNull(column, zeroDates) => null,
        MySqlDateTime zero when MySqlZeroDates.LoadAsSentinel(zero, column, zeroDates, "CockroachDB") => ZeroDateSentinel.Value,
        var other => Convert.ToDateTime(other, CultureInfo.InvariantCulture),
    };

    /// <summary>MySQL TIME as an interval in hours, minutes and seconds: '-838:59:59.000000'.</summary>
    private static string Time(TimeSpan value)
    {
        var sign = value < TimeSpan.Zero ? "-" : "";
        var magnitude = value.Duration();
        return string.Create(CultureInfo.InvariantCulture,
            $"{sign}{(long)magnitude.TotalHours}:{magnitude.Minutes:D2}:{magnitude.Seconds:D2}.{magnitude.Ticks % TimeSpan.TicksPerSecond / 10:D6}");
    }

    /// <summary>BIT(n): the lowest n bits of the value, most significant first, as VARBIT's text form.</summary>
    private static string Bits(ulong value, int length) =>
        string.Create(length, value, (span, bits) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = ((bits >> (span.Length - 1 - i)) & 1) == 1 ? '1' : '0';
            }
        });
}
