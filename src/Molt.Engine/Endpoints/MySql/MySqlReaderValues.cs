using System.Globalization;
using MySqlConnector;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>Reads column <c>ordinal</c> of a data reader's current row as the input <see cref="MySqlValueTable"/> takes.</summary>
internal delegate MySqlValue MySqlValueRead(MySqlDataReader reader, int ordinal);

/// <summary>
/// The load's side of the value table's input: per column, the typed getter that yields the CLR type
/// <see cref="MySqlValueTable"/> documents, chosen once from the source type, so no value is boxed.
/// </summary>
internal static class MySqlReaderValues
{
    public static MySqlValueRead For(ColumnModel column)
    {
        var type = column.Type;
        MySqlValueRead read = type.Family switch
        {
            ColumnTypeFamily.Integer when type.IsUnsigned => (r, i) => MySqlValue.Of(r.GetUInt64(i)),
            ColumnTypeFamily.Integer => (r, i) => MySqlValue.Of(r.GetInt64(i)),
            ColumnTypeFamily.Bit => (r, i) => MySqlValue.Of(r.GetUInt64(i)),
            ColumnTypeFamily.Decimal when type.Precision > MySqlValueTable.MaxBinaryDecimalDigits => (r, i) => MySqlValue.OfDecimalText(r.GetMySqlDecimal(i).ToString()),
            ColumnTypeFamily.Decimal => (r, i) => MySqlValue.Of(r.GetDecimal(i)),
            // Selected widened to DOUBLE (MySqlExactValues), a FLOAT narrows back exactly.
            ColumnTypeFamily.Float when type.Name == "float" => (r, i) => MySqlValue.Of(r.GetFloat(i)),
            ColumnTypeFamily.Float => (r, i) => MySqlValue.Of(r.GetDouble(i)),
            ColumnTypeFamily.Date or ColumnTypeFamily.Timestamp => (r, i) => MySqlValue.Of(Parts(r.GetMySqlDateTime(i))),
            ColumnTypeFamily.Interval => (r, i) => MySqlValue.Of(r.GetFieldValue<TimeSpan>(i)),
            // Spatial values arrive as bytes (MySQL's SRID and WKB), never decoded as text.
            ColumnTypeFamily.Binary or ColumnTypeFamily.Spatial => (r, i) => MySqlValue.Of(r.GetFieldValue<byte[]>(i)),
            // Any other type in its text form.
            ColumnTypeFamily.Other => (r, i) => r.GetValue(i) is byte[] bytes
                ? MySqlValue.Of(bytes)
                : MySqlValue.Of(Convert.ToString(r.GetValue(i), CultureInfo.InvariantCulture) ?? ""),
            _ => (r, i) => MySqlValue.Of(r.GetString(i)),
        };
        return (reader, ordinal) => reader.IsDBNull(ordinal) ? MySqlValue.Null : read(reader, ordinal);
    }

    private static MySqlDateParts Parts(MySqlDateTime value) =>
        new(value.Year, value.Month, value.Day, value.Hour, value.Minute, value.Second, value.Microsecond);
}
