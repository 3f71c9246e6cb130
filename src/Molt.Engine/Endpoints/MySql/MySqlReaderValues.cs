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
        MySqlValueRead read = type.Name switch
        {
            "tinyint" or "smallint" or "mediumint" or "int" or "integer" or "bigint" when type.IsUnsigned => (r, i) => MySqlValue.Of(r.GetUInt64(i)),
            "tinyint" or "smallint" or "mediumint" or "int" or "integer" or "bigint" or "year" => (r, i) => MySqlValue.Of(r.GetInt64(i)),
            "bit" => (r, i) => MySqlValue.Of(r.GetUInt64(i)),
            "decimal" or "numeric" when type.Precision > MySqlValueTable.MaxBinaryDecimalDigits => (r, i) => MySqlValue.OfDecimalText(r.GetMySqlDecimal(i).ToString()),
            "decimal" or "numeric" => (r, i) => MySqlValue.Of(r.GetDecimal(i)),
            // Selected widened to DOUBLE (MySqlExactValues), a FLOAT narrows back exactly.
            "float" => (r, i) => MySqlValue.Of(r.GetFloat(i)),
            "double" or "real" => (r, i) => MySqlValue.Of(r.GetDouble(i)),
            "date" or "datetime" or "timestamp" => (r, i) => MySqlValue.Of(Parts(r.GetMySqlDateTime(i))),
            "time" => (r, i) => MySqlValue.Of(r.GetFieldValue<TimeSpan>(i)),
            "binary" or "varbinary" or "tinyblob" or "blob" or "mediumblob" or "longblob" or "geometry" or "point" or "linestring" or "polygon"
                or "multipoint" or "multilinestring" or "multipolygon" or "geometrycollection" => (r, i) => MySqlValue.Of(r.GetFieldValue<byte[]>(i)),
            _ => (r, i) => MySqlValue.Of(r.GetString(i)),
        };
        return (reader, ordinal) => reader.IsDBNull(ordinal) ? MySqlValue.Null : read(reader, ordinal);
    }

    private static MySqlDateParts Parts(MySqlDateTime value) =>
        new(value.Year, value.Month, value.Day, value.Hour, value.Minute, value.Second, value.Microsecond);
}
