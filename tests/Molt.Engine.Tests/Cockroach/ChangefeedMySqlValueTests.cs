using System.Globalization;
using System.Text.Json;
using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Endpoints.MySql.Apply;
using Molt.Engine.Schema;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// Failback from CockroachDB into MySQL/MariaDB, value by value: each type family of the MySQL type matrix, as the load
/// maps it onto CockroachDB (CockroachTypeMapping.FromMySql) and the target's catalog then shows it, from the changefeed's
/// JSON (CockroachDB's AsJSON forms, cited in ChangefeedValues; the docs' own values where they show one) through
/// ChangefeedValues to the parameter MySqlFailbackValues writes into the original column.
/// </summary>
public sealed class ChangefeedMySqlValueTests
{
    [Theory]
    // Integers: INT2/INT4/INT8 as JSON numbers; UNSIGNED into the next size, BIGINT UNSIGNED into DECIMAL(20,0); YEAR into INT2.
    [InlineData("127", "smallint", "tinyint", "tinyint(4)", false, "Int64:127")]
    [InlineData("255", "smallint", "tinyint", "tinyint(3) unsigned", true, "UInt64:255")]
    [InlineData("4294967295", "bigint", "int", "int(10) unsigned", true, "UInt64:4294967295")]
    [InlineData("-9223372036854775808", "bigint", "bigint", "bigint(20)", false, "Int64:-9223372036854775808")]
    [InlineData("18446744073709551615", "numeric", "bigint", "bigint(20) unsigned", true, "UInt64:18446744073709551615")]
    [InlineData("2155", "smallint", "year", "year(4)", false, "Int64:2155")]
    // DECIMAL: the digits as CockroachDB writes them ("price": 26.30, changefeed-message-envelopes), an exponent made plain.
    [InlineData("26.30", "numeric", "decimal", "decimal(10,2)", false, "String:26.30")]
    [InlineData("99999999999999999999999999999999999.999999999999999999999999999999", "numeric", "decimal", "decimal(65,30)", false,
        "String:99999999999999999999999999999999999.999999999999999999999999999999")]
    [InlineData("1.23E-7", "numeric", "decimal", "decimal(18,9)", false, "String:0.000000123")]
    [InlineData("-1.0E-7", "numeric", "decimal", "decimal(18,9)", false, "String:-0.00000010")]
    // FLOAT/DOUBLE: FLOAT4 and FLOAT8 as JSON numbers.
    [InlineData("1.5", "real", "float", "float", false, "Single:1.5")]
    [InlineData("-2.5e+300", "double precision", "double", "double", false, "Double:-2.5E+300")]
    // BIT(n) into VARBIT(n): its bit string.
    [InlineData("\"1000000001\"", "bit varying", "bit", "bit(10)", false, "UInt64:513")]
    [InlineData("\"1111111111111111111111111111111111111111111111111111111111111111\"", "bit varying", "bit", "bit(64)", false, "UInt64:18446744073709551615")]
    // ENUM and SET into TEXT, strings into VARCHAR/TEXT: JSON strings.
    [InlineData("\"c\"", "text", "enum", "enum('a','b','c')", false, "String:c")]
    [InlineData("\"x,z\"", "text", "set", "set('x','y','z')", false, "String:x,z")]
    [InlineData("\"text 🙂\"", "text", "text", "text", false, "String:text 🙂")]
    [InlineData("\"Ab€c\"", "character varying", "varchar", "varchar(20)", false, "String:Ab€c")]
    // BINARY, VARBINARY and BLOB into BYTES: hex with \x.
    [InlineData("\"\\\\x00ff0001\"", "bytea", "binary", "binary(4)", false, "Byte[]:00FF0001")]
    [InlineData("\"\\\\x\"", "bytea", "blob", "blob", false, "Byte[]:")]
    // DATE; DATETIME into TIMESTAMP (no zone, "creation_time": "2019-01-02T03:04:05", create-changefeed); TIMESTAMP into TIMESTAMPTZ (UTC, Z).
    [InlineData("\"9999-12-31\"", "date", "date", "date", false, "String:9999-12-31")]
    [InlineData("\"2019-01-02T03:04:05\"", "timestamp without time zone", "datetime", "datetime", false, "String:2019-01-02 03:04:05")]
    [InlineData("\"2024-02-29T12:34:56.123456\"", "timestamp without time zone", "datetime", "datetime(6)", false, "String:2024-02-29 12:34:56.123456")]
    [InlineData("\"2038-01-19T03:14:07Z\"", "timestamp with time zone", "timestamp", "timestamp", false, "String:2038-01-19 03:14:07")]
    [InlineData("\"1970-01-01T00:00:01.000001Z\"", "timestamp with time zone", "timestamp", "timestamp(6)", false, "String:1970-01-01 00:00:01.000001")]
    [InlineData("\"2025-04-24T16:59:28.96273+02:00\"", "timestamp with time zone", "timestamp", "timestamp(6)", false, "String:2025-04-24 14:59:28.962730")]
    // TIME into INTERVAL: the interval's postgres-style text.
    [InlineData("\"838:59:59\"", "interval", "time", "time", false, "String:838:59:59")]
    [InlineData("\"-12:34:56.789012\"", "interval", "time", "time(6)", false, "String:-12:34:56.789012")]
    [InlineData("\"1 day 02:03:04.5\"", "interval", "time", "time(1)", false, "String:26:03:04.500000")]
    // JSON into JSONB: the value itself, as jsonb prints it; a JSON null under encode_json_value_null_as_object.
    [InlineData("{\"a\": [1, 2.5, \"x\"], \"b\": null}", "jsonb", "json", "longtext", false, "String:{\"a\": [1, 2.5, \"x\"], \"b\": null}")]
    [InlineData("{\"__crdb_json_null__\": true}", "jsonb", "json", "longtext", false, "String:null")]
    // Geometry as hex EWKB into MySQL's SRID + WKB.
    [InlineData("\"0101000020E6100000000000000000F03F0000000000000040\"", "geometry", "point", "point", false,
        "Byte[]:E61000000101000000000000000000F03F0000000000000040")]
    // SQL NULL.
    [InlineData("null", "bigint", "int", "int(11)", false, "DBNull:")]
    public void A_changefeed_value_lands_in_the_original_MySQL_column_as_the_load_read_it(string json, string targetType, string originalName,
        string originalDeclared, bool isUnsigned, string expected) =>
        Assert.Equal(expected, Show(Convert(json, targetType, originalName, originalDeclared, isUnsigned, ZeroDateHandling.Null)));

    [Theory]
    [InlineData("\"0001-01-01\"", "date", "date", "String:0000-00-00")]
    [InlineData("\"0001-01-01T00:00:00\"", "timestamp without time zone", "datetime", "String:0000-00-00 00:00:00")]
    [InlineData("\"0001-01-01T00:00:00Z\"", "timestamp with time zone", "timestamp", "String:0000-00-00 00:00:00")]
    public void The_sentinel_of_a_zero_date_comes_back_as_the_zero_date_from_the_changefeeds_form_too(string json, string targetType, string original,
        string expected) =>
        Assert.Equal(expected, Show(Convert(json, targetType, original, original, false, ZeroDateHandling.Sentinel)));

    [Fact]
    public void A_geometry_sent_as_GeoJSON_is_refused_rather_than_written_back_rounded()
    {
        var refused = Assert.Throws<MoltException>(() =>
            Convert("{\"type\": \"Point\", \"coordinates\": [1, 2]}", "geometry", "point", "point", false, ZeroDateHandling.Null));
        Assert.Equal("ChangefeedSpatialUnsupported", refused.ErrorId);
    }

    [Theory]
    [InlineData("true", "t")]
    [InlineData("false", "f")]
    public void A_BOOL_is_t_or_f_as_PostgreSQL_prints_it(string json, string expected)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Equal(expected, ChangefeedValues.ToText(document.RootElement, ChangefeedValues.KindOf(new ColumnType("boolean", "boolean") { Family = ColumnTypeFamily.Boolean })));
    }

    private static object Convert(string json, string targetType, string originalName, string originalDeclared, bool isUnsigned, ZeroDateHandling zeroDates)
    {
        var target = new ColumnModel("c", 1, new ColumnType(targetType, targetType) { Family = Postgres(targetType) }, true);
        var original = new ColumnModel("c", 1, new ColumnType(originalName, originalDeclared) { IsUnsigned = isUnsigned, Family = MySql(originalName) }, true);
        using var document = JsonDocument.Parse(json);
        var text = ChangefeedValues.ToText(document.RootElement, ChangefeedValues.KindOf(target.Type));
        return MySqlFailbackValues.Convert(text, target, original, zeroDates);
    }

    /// <summary>The family the PostgreSQL catalog reader gives a type of that name (CockroachDB answers its queries).</summary>
    private static ColumnTypeFamily Postgres(string name) => global::Molt.Engine.Endpoints.Postgres.PostgresCatalogReader.Family(name, 'b', null);

    private static ColumnTypeFamily MySql(string name) => name switch
    {
        "date" => ColumnTypeFamily.Date,
        "datetime" or "timestamp" => ColumnTypeFamily.Timestamp,
        "point" or "geometry" => ColumnTypeFamily.Spatial,
        "decimal" => ColumnTypeFamily.Decimal,
        _ => ColumnTypeFamily.Other,
    };

    private static string Show(object value) => value switch
    {
        byte[] bytes => "Byte[]:" + System.Convert.ToHexString(bytes),
        DBNull => "DBNull:",
        IFormattable formattable => $"{value.GetType().Name}:{formattable.ToString(null, CultureInfo.InvariantCulture)}",
        _ => $"{value.GetType().Name}:{value}",
    };
}
