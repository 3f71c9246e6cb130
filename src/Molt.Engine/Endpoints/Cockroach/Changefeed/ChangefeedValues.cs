using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>What a column's JSON value means, from its CockroachDB type: JSON itself, an array, or any other scalar.</summary>
internal enum ChangefeedColumnKind
{
    Scalar,
    Json,
    Array,
    JsonArray,
}

/// <summary>
/// Turns a changefeed's JSON value of a column into the text the pgwire applier sends (as "unknown", cast by the server by
/// the column's type), as the PostgreSQL change source gives text in PostgreSQL's output format.
/// <para>
/// A changefeed encodes each datum with CockroachDB's <c>tree.AsJSON</c> under a default data conversion configuration
/// and UTC (cockroachdb/cockroach pkg/ccl/changefeedccl/encoder_json.go, datumToJSON; pkg/sql/sem/tree/datum.go, AsJSON):
/// BOOL a JSON boolean; INT a JSON number; DECIMAL a JSON number written with its exact digits (the docs' <c>"price": 26.30</c>,
/// https://www.cockroachlabs.com/docs/stable/changefeed-message-envelopes#audit-changes-in-data); STRING, ENUM and collated strings a
/// JSON string; JSONB the JSON value itself; an ARRAY a JSON array of its elements; TIMESTAMPTZ an RFC 3339 string in UTC
/// ("2019-01-02T03:04:05.123Z"), TIMESTAMP the same without a zone (the docs' <c>"creation_time": "2019-01-02T03:04:05"</c>,
/// https://www.cockroachlabs.com/docs/stable/create-changefeed); DATE, UUID, INTERVAL, BYTES, INET, TIME, TIMETZ and BIT
/// their SQL text (BYTES in hex, <c>\x0102</c>; INTERVAL in the postgres style, <c>1 day 02:03:04</c>), all of which
/// PostgreSQL's input functions read as they are. Numbers are therefore kept as their JSON text, never read as a double.
/// </para>
/// </summary>
internal static class ChangefeedValues
{
    /// <summary>
    /// The key <c>encode_json_value_null_as_object</c> writes for a JSONB <c>null</c>, to tell it from SQL NULL:
    /// https://www.cockroachlabs.com/docs/stable/changefeed-messages#json.
    /// </summary>
    public const string JsonNullMarker = "__crdb_json_null__";

    /// <summary>The kind of a column from its CockroachDB type as the plan names it (<c>JSONB</c>, <c>INT8[]</c>, <c>STRING ARRAY</c>).</summary>
    public static ChangefeedColumnKind KindOf(string sqlType)
    {
        var type = sqlType.Trim().ToUpperInvariant();
        var isArray = type.EndsWith("[]", StringComparison.Ordinal) || type.EndsWith(" ARRAY", StringComparison.Ordinal);
        var element = isArray ? type[..type.LastIndexOfAny(['[', ' '])].TrimEnd() : type;
        var isJson = element is "JSONB" or "JSON";
        return (isArray, isJson) switch
        {
            (true, true) => ChangefeedColumnKind.JsonArray,
            (true, false) => ChangefeedColumnKind.Array,
            (false, true) => ChangefeedColumnKind.Json,
            _ => ChangefeedColumnKind.Scalar,
        };
    }

    /// <summary>The text of one column's value, or null for SQL NULL.</summary>
    /// <exception cref="FormatException">The value is not what a column of that kind holds.</exception>
    public static string? ToText(JsonElement value, ChangefeedColumnKind kind) => kind switch
    {
        _ when value.ValueKind == JsonValueKind.Null => null,
        ChangefeedColumnKind.Json => IsJsonNullMarker(value) ? "null" : CanonicalJson(value),
        ChangefeedColumnKind.Array or ChangefeedColumnKind.JsonArray => ArrayLiteral(value, kind == ChangefeedColumnKind.JsonArray),
        _ => Scalar(value),
    };

    private static string Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        // The number's own digits: DECIMAL(20,2) 26.30 stays 26.30, an INT8 beyond 2^53 stays exact.
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new FormatException($"A changefeed value {value.GetRawText()} is not a scalar; the column's type says it should be one."),
    };

    private static bool IsJsonNullMarker(JsonElement value) =>
        value.ValueKind == JsonValueKind.Object && value.TryGetProperty(JsonNullMarker, out var flag) && flag.ValueKind == JsonValueKind.True
        && value.EnumerateObject().Count() == 1;

    /// <summary>
    /// A PostgreSQL array literal (https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO): elements in braces, NULL
    /// unquoted, every other element double-quoted with <c>"</c> and <c>\</c> escaped; nested arrays give the dimensions.
    /// </summary>
    private static string ArrayLiteral(JsonElement value, bool elementsAreJson)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"A changefeed value {value.GetRawText()} is not an array; the column's type says it should be one.");
        }

        var text = new StringBuilder();
        AppendArray(text, value, elementsAreJson);
        return text.ToString();
    }

    private static void AppendArray(StringBuilder text, JsonElement array, bool elementsAreJson)
    {
        text.Append('{');
        var first = true;
        foreach (var element in array.EnumerateArray())
        {
            if (!first)
            {
                text.Append(',');
            }

            first = false;
            if (element.ValueKind == JsonValueKind.Null)
            {
                text.Append("NULL");
            }
            else if (element.ValueKind == JsonValueKind.Array && !elementsAreJson)
            {
                AppendArray(text, element, elementsAreJson);
            }
            else
            {
                AppendQuotedElement(text, elementsAreJson ? CanonicalJson(element) : Scalar(element));
            }
        }

        text.Append('}');
    }

    private static void AppendQuotedElement(StringBuilder text, string element)
    {
        text.Append('"');
        foreach (var c in element)
        {
            if (c is '"' or '\\')
            {
                text.Append('\\');
            }

            text.Append(c);
        }

        text.Append('"');
    }

    /// <summary>
    /// JSON text as PostgreSQL's jsonb prints it (<c>{"a": 1, "b": [1, 2]}</c>): keys in the order CockroachDB sent them,
    /// numbers with their own digits, strings escaped as PostgreSQL's escape_json does (quote, backslash, control characters).
    /// </summary>
    public static string CanonicalJson(JsonElement value)
    {
        var text = new StringBuilder();
        AppendJson(text, value);
        return text.ToString();
    }

    private static void AppendJson(StringBuilder text, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                text.Append('{');
                var firstProperty = true;
                foreach (var property in value.EnumerateObject())
                {
                    text.Append(firstProperty ? "" : ", ");
                    firstProperty = false;
                    AppendJsonString(text, property.Name);
                    text.Append(": ");
                    AppendJson(text, property.Value);
                }

                text.Append('}');
                break;
            case JsonValueKind.Array:
                text.Append('[');
                var firstElement = true;
                foreach (var element in value.EnumerateArray())
                {
                    text.Append(firstElement ? "" : ", ");
                    firstElement = false;
                    AppendJson(text, element);
                }

                text.Append(']');
                break;
            case JsonValueKind.String:
                AppendJsonString(text, value.GetString()!);
                break;
            default:
                text.Append(value.GetRawText());
                break;
        }
    }

    private static void AppendJsonString(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case < ' ': text.Append(string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}")); break;
                default: text.Append(c); break;
            }
        }

        text.Append('"');
    }
}
