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
            ("date", "date") => Dates(column, zeroDates, DateTimeKind.Unspecified),
            ("datetime", _) => Dates(column, zeroDates, DateTimeKind.Unspecified),
            // The reader's session time zone is UTC, so a TIMESTAMP comes back as its UTC instant.
            ("timestamp", _) => Dates(column, zeroDates, DateTimeKind.Utc),
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
            // Read widened to DOUBLE (MySqlExactValues), a FLOAT is spelled with the digits of its own precision.
            ("float", "text" or "character varying") => Nullable((reader, i) => reader.GetFloat(i).ToString("R", CultureInfo.InvariantCulture), wire),
            ("char" or "varchar" or "tinytext" or "text" or "mediumtext" or "longtext", "text" or "character varying") =>
                Nullable((reader, i) => reader.GetString(i), wire),
            (_, "text" or "character varying" or "jsonb" or "json") => Nullable((reader, i) => Text(reader.GetValue(i)), wire),
            _ => Nullable((reader, i) => Text(reader.GetValue(i)), wire),
        };
    }

    /// <summary>
    /// A DATE, DATETIME or TIMESTAMP: a valid date as a DateTime of <paramref name="kind"/>; a zero date (dates come back as
    /// MySqlDateTime, zero dates allowed through the connection) as NULL, the sentinel or a rejected row.
    /// </summary>
    private static ColumnWriter Dates(TargetColumn column, ZeroDateHandling zeroDates, DateTimeKind kind)
    {
        var wire = column.Type.WireType;
        var asDate = wire == "date";
        var zeroAsNull = MySqlZeroDates.LoadAsNull(column, zeroDates);
        return async (reader, ordinal, importer, cancellationToken) =>
        {
            var value = reader.IsDBNull(ordinal) ? null : reader.GetValue(ordinal);
            if (value is null || (zeroAsNull && value is MySqlDateTime { IsValidDateTime: false }))
            {
                await importer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
                return BinaryCopySize.NullField;
            }

            if (value is MySqlDateTime { IsValidDateTime: false } zero && MySqlZeroDates.LoadAsSentinel(zero, column, zeroDates, "PostgreSQL"))
            {
                // Npgsql writes DateTime.MinValue, the sentinel, as -infinity: it goes in PostgreSQL's own form instead.
                return asDate
                    ? await Write(SentinelDays, "date").ConfigureAwait(false)
                    : await Write(SentinelMicroseconds, wire).ConfigureAwait(false);
            }

            var date = value switch
            {
                DateTime dateTime => dateTime,
                MySqlDateTime valid => valid.GetDateTime(),
                _ => Convert.ToDateTime(value, CultureInfo.InvariantCulture),
            };
            return await Write(DateTime.SpecifyKind(asDate ? date.Date : date, kind), wire).ConfigureAwait(false);

            async ValueTask<int> Write<T>(T written, string type)
            {
                await importer.WriteAsync(written, type, cancellationToken).ConfigureAwait(false);
                return BinaryCopySize.Field(written, type);
            }
        };
    }

    private static readonly DateTime PostgresEpoch = new(2000, 1, 1);

    /// <summary>The sentinel as PostgreSQL's date: days from 2000-01-01.</summary>
    private static readonly int SentinelDays = (int)(ZeroDateSentinel.Value - PostgresEpoch).TotalDays;

    /// <summary>The sentinel as PostgreSQL's timestamp: microseconds from 2000-01-01 00:00:00.</summary>
    private static readonly long SentinelMicroseconds = (ZeroDateSentinel.Value - PostgresEpoch).Ticks / TimeSpan.TicksPerMicrosecond;

    private static ColumnWriter Nullable<T>(Func<DbDataReader, int, T> read, string wireType) =>
        async (reader, ordinal, importer, cancellationToken) =>
        {
            if (reader.IsDBNull(ordinal))
            {
                await importer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
                return BinaryCopySize.NullField;
            }

            var value = read(reader, ordinal);
            await importer.WriteAsync(value, wireType, cancellationToken).ConfigureAwait(false);
            return BinaryCopySize.Field(value, wireType);
        };

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
