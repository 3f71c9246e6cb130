using System.Text;
using System.Text.Json;
using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Schema;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>Plans of watched tables for the changefeed tests: the CockroachDB target named like the source.</summary>
internal static class ChangefeedPlans
{
    public const string Database = "movr";

    /// <summary>A plan of <paramref name="name"/> in schema public with columns (name, CockroachDB type) and the given key.</summary>
    public static TablePlan Plan(string name, string[] key, params (string Name, string Type)[] columns)
    {
        var models = columns.Select((c, i) => new ColumnModel(c.Name, i + 1, new ColumnType(c.Type.ToLowerInvariant(), c.Type.ToLowerInvariant()), !key.Contains(c.Name))).ToList();
        var table = new TableModel(new TableName("public", name), models, key);
        return new TablePlan(table, table.Name, models.Select(m => new TargetColumn(m, m.Name, new TargetType(m.Type.Name.ToUpperInvariant(), m.Type.Name, false), m.IsNullable)).ToList(), key);
    }

    /// <summary>The employees table of the docs' ordering examples (https://www.cockroachlabs.com/docs/stable/changefeed-messages).</summary>
    public static TablePlan Employees { get; } = Plan("employees", ["id"], ("id", "INT8"), ("name", "STRING"), ("office", "STRING"));

    public static ChangefeedTable Table(TablePlan plan) => new(Database, plan);

    public static ChangefeedMessageParser Parser(params TablePlan[] plans) => new(plans.Select(Table));

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}

/// <summary>
/// Each SQL type's changefeed JSON (CockroachDB's AsJSON, cited in ChangefeedValues) to the text the pgwire applier sends.
/// Values are the docs' own where the docs show one.
/// </summary>
public sealed class ChangefeedValueTests
{
    private static string? Text(string json, string type)
    {
        using var document = JsonDocument.Parse(json);
        return ChangefeedValues.ToText(document.RootElement, ChangefeedValues.KindOf(type));
    }

    [Theory]
    // https://www.cockroachlabs.com/docs/stable/changefeed-for: {"after": {"a": 0}}
    [InlineData("0", "INT8", "0")]
    [InlineData("9223372036854775807", "INT8", "9223372036854775807")]
    [InlineData("-9223372036854775808", "INT8", "-9223372036854775808")]
    // https://www.cockroachlabs.com/docs/stable/changefeed-message-envelopes: "price": 26.30 (the trailing zero is the scale)
    [InlineData("26.30", "DECIMAL(10,2)", "26.30")]
    [InlineData("12345678901234567890123456789.123456789012345678901234567890", "DECIMAL(65,30)", "12345678901234567890123456789.123456789012345678901234567890")]
    [InlineData("0.1", "FLOAT8", "0.1")]
    [InlineData("1.7976931348623157e+308", "FLOAT8", "1.7976931348623157e+308")]
    // apd prints a decimal below 1E-6 with an exponent; PostgreSQL never does.
    [InlineData("1.0E-7", "DECIMAL(20,8)", "0.00000010")]
    [InlineData("1.20E+3", "DECIMAL", "1200")]
    [InlineData("-5E-1", "DECIMAL", "-0.5")]
    public void ANumberKeepsItsExactDigits(string json, string type, string expected) => Assert.Equal(expected, Text(json, type));

    [Theory]
    // "in_stock": true (changefeed-message-envelopes), as PostgreSQL prints a boolean
    [InlineData("true", "BOOL", "t")]
    [InlineData("false", "BOOL", "f")]
    // "name": "Terry", "id": "68ee1f95-...", "creation_time": "2019-01-02T03:04:05", "created_at": "2025-04-01T17:55:46.812942"
    [InlineData("\"Terry\"", "STRING", "Terry")]
    [InlineData("\"68ee1f95-3137-48e2-8ce3-34ac2d18c7c8\"", "UUID", "68ee1f95-3137-48e2-8ce3-34ac2d18c7c8")]
    [InlineData("\"2019-01-02T03:04:05\"", "TIMESTAMP", "2019-01-02 03:04:05")]
    [InlineData("\"2025-04-01T17:55:46.812942\"", "TIMESTAMP(6)", "2025-04-01 17:55:46.812942")]
    // TIMESTAMPTZ is RFC 3339 in UTC, printed as PostgreSQL does under DateStyle ISO; DATE, TIME, INTERVAL, INET, enum values are their SQL text.
    [InlineData("\"2025-04-24T14:59:28.96273Z\"", "TIMESTAMPTZ", "2025-04-24 14:59:28.96273+00")]
    [InlineData("\"2025-04-24T16:59:28.96273+02:00\"", "TIMESTAMPTZ", "2025-04-24 16:59:28.96273+02:00")]
    [InlineData("\"2019-01-02\"", "DATE", "2019-01-02")]
    [InlineData("\"03:04:05.123456\"", "TIME", "03:04:05.123456")]
    [InlineData("\"1 year 2 mons 3 days 04:05:06.789\"", "INTERVAL", "1 year 2 mons 3 days 04:05:06.789")]
    [InlineData("\"192.168.0.1/24\"", "INET", "192.168.0.1/24")]
    [InlineData("\"in_use\"", "\"public\".\"vehicle_status\"", "in_use")]
    [InlineData("\"10101\"", "BIT(5)", "10101")]
    public void AScalarIsItsText(string json, string type, string expected) => Assert.Equal(expected, Text(json, type));

    [Fact]
    public void BytesArriveInHexAndPassAsByteaText() => Assert.Equal(@"\x00ff10", Text("\"\\\\x00ff10\"", "BYTES"));

    [Fact]
    public void AStringKeepsEscapedCharacters() => Assert.Equal("line\nbreak \"quoted\" \\ é", Text("\"line\\nbreak \\\"quoted\\\" \\\\ \\u00e9\"", "STRING"));

    [Fact]
    public void SqlNullIsNullForEveryKind()
    {
        // {"data": null, "id": 1} for a SQL NULL (https://www.cockroachlabs.com/docs/stable/changefeed-messages#json)
        foreach (var type in new[] { "INT8", "JSONB", "INT8[]", "JSONB[]" })
        {
            Assert.Null(Text("null", type));
        }
    }

    [Fact]
    public void AJsonbNullMarkedAsAnObjectIsTheJsonNullValue() =>
        // encode_json_value_null_as_object: {"data": {"__crdb_json_null__": true}, "id": 2} (changefeed-messages#json)
        Assert.Equal("null", Text("{\"__crdb_json_null__\": true}", "JSONB"));

    [Theory]
    // "ext": {"color": "yellow"} and {"brand": "Schwinn", "color": "red"} (create-changefeed examples)
    [InlineData("{\"color\": \"yellow\"}", "{\"color\": \"yellow\"}")]
    [InlineData("{\"brand\":\"Schwinn\",\"color\":\"red\"}", "{\"brand\": \"Schwinn\", \"color\": \"red\"}")]
    [InlineData("{\"a\": [1, 2.50, {\"b\": null}], \"c\": \"x\\ny\"}", "{\"a\": [1, 2.50, {\"b\": null}], \"c\": \"x\\ny\"}")]
    [InlineData("\"a string\"", "\"a string\"")]
    [InlineData("12.000", "12.000")]
    [InlineData("[true, false]", "[true, false]")]
    public void JsonbIsCanonicalJsonText(string json, string expected) => Assert.Equal(expected, Text(json, "JSONB"));

    [Theory]
    [InlineData("[1, 2, null]", "INT8[]", "{\"1\",\"2\",NULL}")]
    [InlineData("[\"a\", \"b\\\"c\", \"d\\\\e\", \"\", null]", "STRING[]", "{\"a\",\"b\\\"c\",\"d\\\\e\",\"\",NULL}")]
    [InlineData("[[1, 2], [3, 4]]", "INT8[]", "{{\"1\",\"2\"},{\"3\",\"4\"}}")]
    [InlineData("[1.10, 2.25]", "DECIMAL[]", "{\"1.10\",\"2.25\"}")]
    [InlineData("[\"\\\\x01\"]", "BYTES[]", "{\"\\\\x01\"}")]
    [InlineData("[]", "STRING ARRAY", "{}")]
    [InlineData("[{\"a\": 1}, [1, 2]]", "JSONB[]", "{\"{\\\"a\\\": 1}\",\"[1, 2]\"}")]
    public void AnArrayIsAPostgresArrayLiteral(string json, string type, string expected) => Assert.Equal(expected, Text(json, type));

    [Theory]
    [InlineData("JSONB", "Json")]
    [InlineData("json", "Json")]
    [InlineData("INT8[]", "Array")]
    [InlineData("STRING ARRAY", "Array")]
    [InlineData("JSONB[]", "JsonArray")]
    [InlineData("DECIMAL(20,2)", "Decimal")]
    [InlineData("timestamp with time zone", "Timestamp")]
    [InlineData("BOOL", "Bool")]
    [InlineData("GEOMETRY(POINT,4326)", "Spatial")]
    [InlineData("BYTES", "Scalar")]
    public void TheColumnsTypeSaysHowItsJsonIsRead(string type, string kind) => Assert.Equal(kind, ChangefeedValues.KindOf(type).ToString());

    [Fact]
    public void AnObjectInAScalarColumnIsRefused() => Assert.Throws<FormatException>(() => Text("{\"a\": 1}", "INT8"));

    [Fact]
    public void AScalarInAnArrayColumnIsRefused() => Assert.Throws<FormatException>(() => Text("1", "INT8[]"));
}
