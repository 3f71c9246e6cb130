using System.Collections;
using System.Data.Common;
using System.Globalization;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using MySqlConnector;
using Npgsql;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// Per column, how a MySQL/MariaDB value becomes the target's binary COPY value: chosen once per shard from the
/// source type and the target's wire type, then called for every row.
/// </summary>
internal static class MySqlColumnWriters
{
    public static ColumnWriter For(TargetColumn column, ZeroDateHandling zeroDates)
    {
        var source = column.Source.Type;
        var wire = column.Type.WireType;
        var name = column.Source.Name;
        return (source.Name, wire) switch
        {
            (_, "boolean") => Nullable((reader, i) => Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture) switch
            {
                0 => false,
                1 => true,
                var other => throw new RowRejectedException(name, $"{other} is neither 0 nor 1, so it is not a boolean"),
            }, wire),
            // A DateTime, not a DateOnly: Npgsql writes DateOnly.MaxValue (9999-12-31, a valid MySQL date) as 'infinity'.
            ("date", "date") => Nullable((reader, i) => DateTime.SpecifyKind(ValidDate(reader, i, name, zeroDates).Date, DateTimeKind.Unspecified), wire,
                ZeroAsNull(zeroDates)),
            ("datetime", _) => Nullable((reader, i) => DateTime.SpecifyKind(ValidDate(reader, i, name, zeroDates), DateTimeKind.Unspecified), wire,
                ZeroAsNull(zeroDates)),
            // The reader's session time zone is UTC, so a TIMESTAMP comes back as its UTC instant.
            ("timestamp", _) => Nullable((reader, i) => DateTime.SpecifyKind(ValidDate(reader, i, name, zeroDates), DateTimeKind.Utc), wire,
                ZeroAsNull(zeroDates)),
            // All in the interval's time part (no days), so '-838:59:59' reads back as it was written.
            ("time", _) => Nullable((reader, i) => new NpgsqlTypes.NpgsqlInterval(0, 0, reader.GetFieldValue<TimeSpan>(i).Ticks / TimeSpan.TicksPerMicrosecond), wire),
            ("bit", _) => Nullable((reader, i) => Bits(Convert.ToUInt64(reader.GetValue(i), CultureInfo.InvariantCulture), source.Length ?? 64), wire),
            // Typed getters (MySqlConnector converts between integer widths with range checks): no boxing per value.
            (_, "smallint") => Nullable((reader, i) => reader.GetInt16(i), wire),
            (_, "integer") => Nullable((reader, i) => reader.GetInt32(i), wire),
            (_, "bigint") => Nullable((reader, i) => reader.GetInt64(i), wire),
            (_, "numeric") => Nullable(Decimal, wire),
            (_, "real") => Nullable((reader, i) => reader.GetFloat(i), wire),
            (_, "double precision") => Nullable((reader, i) => reader.GetDouble(i), wire),
            (_, "bytea") => Nullable((reader, i) => reader.GetFieldValue<byte[]>(i), wire),
            ("char" or "varchar" or "tinytext" or "text" or "mediumtext" or "longtext", "text" or "character varying") =>
                Nullable((reader, i) => reader.GetString(i), wire),
            (_, "text" or "character varying" or "jsonb" or "json") => Nullable((reader, i) => Text(reader.GetValue(i)), wire),
            _ => Nullable((reader, i) => Text(reader.GetValue(i)), wire),
        };
    }

    private static Func<object?, bool>? ZeroAsNull(ZeroDateHandling zeroDates) =>
        zeroDates == ZeroDateHandling.Null ? value => value is MySqlDateTime { IsValidDateTime: false } : null;

    private static ColumnWriter Nullable<T>(Func<DbDataReader, int, T> read, string wireType, Func<object?, bool>? isNull = null) =>
        async (reader, ordinal, importer, cancellationToken) =>
        {
            if (reader.IsDBNull(ordinal) || (isNull is not null && isNull(reader.GetValue(ordinal))))
            {
                await importer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            await importer.WriteAsync(read(reader, ordinal), wireType, cancellationToken).ConfigureAwait(false);
        };

    /// <summary>Dates come back as MySqlDateTime (zero dates are allowed through the connection): a zero date is rejected here.</summary>
    private static DateTime ValidDate(DbDataReader reader, int ordinal, string column, ZeroDateHandling zeroDates)
    {
        var value = reader.GetValue(ordinal);
        return value switch
        {
            DateTime dateTime => dateTime,
            MySqlDateTime { IsValidDateTime: true } valid => valid.GetDateTime(),
            MySqlDateTime zero => throw new RowRejectedException(column,
                $"the zero date {zero.Year:D4}-{zero.Month:D2}-{zero.Day:D2} has no PostgreSQL equivalent" +
                (zeroDates == ZeroDateHandling.Reject ? " (-ZeroDateHandling Reject)" : "")),
            _ => Convert.ToDateTime(value, CultureInfo.InvariantCulture),
        };
    }

    /// <summary>DECIMAL reads without boxing; BIGINT UNSIGNED (to numeric(20,0)) arrives as a UInt64. Wider DECIMALs go as CSV.</summary>
    private static decimal Decimal(DbDataReader reader, int ordinal) =>
        reader.GetFieldType(ordinal) == typeof(decimal) ? reader.GetDecimal(ordinal) : Convert.ToDecimal(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    /// <summary>BIT(n) arrives as an unsigned integer whose lowest n bits are the value, most significant first.</summary>
    private static BitArray Bits(ulong value, int length)
    {
        var bits = new BitArray(length);
        for (var i = 0; i < length; i++)
        {
            bits[i] = ((value >> (length - 1 - i)) & 1) == 1;
        }

        return bits;
    }

    private static string Text(object value) => value switch
    {
        string text => text,
        byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
