using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>
/// What a column's JSON value means, from its CockroachDB type: JSON itself, an array, a scalar whose text CockroachDB
/// spells otherwise than PostgreSQL prints it (BOOL, TIMESTAMP/TIMESTAMPTZ, DECIMAL), a geometry, or any other scalar.
/// </summary>
internal enum ChangefeedColumnKind
{
    Scalar,
    Json,
    Array,
    JsonArray,
    Bool,
    Timestamp,
    Decimal,
    Spatial,
}

/// <summary>
/// Turns a changefeed's JSON value of a column into the text the appliers take: PostgreSQL's output format, as the
/// PostgreSQL change source gives it (the pgwire applier sends it as "unknown", cast by the server by the column's type;
/// MySqlFailbackValues reads it back into a MySQL original's types). Where CockroachDB's JSON spells a value otherwise,
/// it is respelled as PostgreSQL prints it: BOOL as t/f, a timestamp's RFC 3339 'T' as a space and its 'Z' as +00, a
/// DECIMAL in exponent notation (apd's String, which CockroachDB prints below 1E-6, e.g. 1.0E-7) in plain digits.
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

    /// <summary>
    /// The kind of a column from its type as CockroachDB's catalog shows it (read like PostgreSQL's): its family, else its
    /// declared spelling.
    /// </summary>
    public static ChangefeedColumnKind KindOf(Schema.ColumnType type) => type switch
    {
        { IsArray: true } => type.Family == Schema.ColumnTypeFamily.Json ? ChangefeedColumnKind.JsonArray : ChangefeedColumnKind.Array,
        { Family: Schema.ColumnTypeFamily.Json } => ChangefeedColumnKind.Json,
        { Family: Schema.ColumnTypeFamily.Boolean } => ChangefeedColumnKind.Bool,
        { Family: Schema.ColumnTypeFamily.Timestamp } => ChangefeedColumnKind.Timestamp,
        { Family: Schema.ColumnTypeFamily.Decimal } => ChangefeedColumnKind.Decimal,
        { Family: Schema.ColumnTypeFamily.Spatial } => ChangefeedColumnKind.Spatial,
        _ => KindOf(type.Declared),
    };

    /// <summary>
    /// The kind of a column from its type's spelling, CockroachDB's or PostgreSQL's (<c>JSONB</c>, <c>INT8[]</c>,
    /// <c>STRING ARRAY</c>, <c>timestamp with time zone</c>).
    /// </summary>
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
            _ when element is "BOOL" or "BOOLEAN" => ChangefeedColumnKind.Bool,
            _ when element.StartsWith("TIMESTAMP", StringComparison.Ordinal) => ChangefeedColumnKind.Timestamp,
            _ when element.StartsWith("DECIMAL", StringComparison.Ordinal) || element.StartsWith("NUMERIC", StringComparison.Ordinal) => ChangefeedColumnKind.Decimal,
            _ when element.StartsWith("GEOMETRY", StringComparison.Ordinal) || element.StartsWith("GEOGRAPHY", StringComparison.Ordinal) => ChangefeedColumnKind.Spatial,
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
        ChangefeedColumnKind.Bool when value.ValueKind is JsonValueKind.True or JsonValueKind.False => value.ValueKind == JsonValueKind.True ? "t" : "f",
        ChangefeedColumnKind.Timestamp when value.ValueKind == JsonValueKind.String => Timestamp(value.GetString()!),
        ChangefeedColumnKind.Decimal when value.ValueKind == JsonValueKind.Number => PlainDecimal(value.GetRawText()),
        ChangefeedColumnKind.Spatial when value.ValueKind != JsonValueKind.String => throw SpatialUnsupported(value),
        _ => Scalar(value),
    };

    /// <summary>
    /// RFC 3339 as PostgreSQL prints a timestamp under DateStyle ISO: "2025-04-24T14:59:28.96273Z" is
    /// "2025-04-24 14:59:28.96273+00", "2019-01-02T03:04:05" is "2019-01-02 03:04:05"; an offset other than Z stays.
    /// </summary>
    internal static string Timestamp(string text)
    {
        var spaced = text.Length > 10 && text[10] == 'T' ? string.Concat(text.AsSpan(0, 10), " ", text.AsSpan(11)) : text;
        return spaced.EndsWith('Z') ? string.Concat(spaced.AsSpan(0, spaced.Length - 1), "+00") : spaced;
    }

    /// <summary>
    /// A decimal's digits without an exponent, exactly (no .NET decimal holds 65 digits): "1.0E-7" is "0.00000010", the
    /// scale of its coefficient kept; "1.20E+3" is "1200".
    /// </summary>
    internal static string PlainDecimal(string number)
    {
        var e = number.IndexOfAny(['e', 'E']);
        if (e < 0)
        {
            return number;
        }

        var exponent = int.Parse(number.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var mantissa = number[..e];
        var sign = mantissa.StartsWith('-') ? "-" : "";
        mantissa = mantissa.TrimStart('-', '+');
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        var point = (dot < 0 ? mantissa.Length : dot) + exponent;
        var (whole, fraction) = point <= 0 ? ("0", new string('0', -point) + digits)
            : point >= digits.Length ? (digits + new string('0', point - digits.Length), "")
            : (digits[..point], digits[point..]);
        whole = whole.TrimStart('0');
        return sign + (whole.Length == 0 ? "0" : whole) + (fraction.Length > 0 ? "." + fraction : "");
    }

    /// <summary>
    /// A geometry the changefeed sent as a JSON object (GeoJSON) rather than its hex EWKB: Molt converts EWKB only, and
    /// GeoJSON's coordinates may be rounded, so the value is refused rather than written back inexactly.
    /// </summary>
    private static MoltException SpatialUnsupported(JsonElement value) => new(MoltErrorKind.SchemaMismatch, "ChangefeedSpatialUnsupported",
        $"The changefeed sent a geometry as {(value.ValueKind == JsonValueKind.Object ? "GeoJSON" : value.ValueKind.ToString())}, which Molt does not convert back into the original's geometry (it reads hex EWKB).",
        "Fail back the spatial tables another way (load them back from the target with Start-MoltBulkLoad), or leave them out of the migration's FetchId.");

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
