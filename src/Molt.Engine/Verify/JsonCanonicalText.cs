using System.Text;
using System.Text.Json;

namespace Molt.Engine.Verify;

/// <summary>
/// JSON by meaning, as jsonb holds it: object keys sorted (of a key given twice, the last value kept), whitespace
/// dropped, and numbers exactly by value (1.0 = 1, 1e2 = 100; no digit rounded away, however long or small).
/// </summary>
internal static class JsonCanonicalText
{
    /// <summary>The canonical text, or null when <paramref name="text"/> is not JSON.</summary>
    public static string? Of(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var output = new StringBuilder();
            Write(document.RootElement, output);
            return output.ToString();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void Write(JsonElement element, StringBuilder output)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    members[property.Name] = property.Value;
                }

                output.Append('{');
                var first = true;
                foreach (var (name, value) in members.OrderBy(m => m.Key, CodePointComparer.Instance))
                {
                    output.Append(first ? "" : ",").Append(JsonSerializer.Serialize(name)).Append(':');
                    Write(value, output);
                    first = false;
                }

                output.Append('}');
                break;
            case JsonValueKind.Array:
                output.Append('[');
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    output.Append(index++ == 0 ? "" : ",");
                    Write(item, output);
                }

                output.Append(']');
                break;
            case JsonValueKind.Number:
                output.Append(Number(element.GetRawText()));
                break;
            case JsonValueKind.String:
                output.Append(JsonSerializer.Serialize(element.GetString()));
                break;
            default:
                output.Append(element.GetRawText());
                break;
        }
    }

    /// <summary>
    /// A JSON number's value as text: its significant digits and the power of ten they are scaled by, spelled out
    /// in full within 40 places of the point and in exponent form beyond (one spelling per value either way).
    /// </summary>
    internal static string Number(string raw)
    {
        var negative = raw.StartsWith('-');
        var body = negative ? raw[1..] : raw;
        var exponentAt = body.IndexOfAny(['e', 'E']);
        var exponent = 0;
        if (exponentAt >= 0 && !int.TryParse(body[(exponentAt + 1)..], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out exponent))
        {
            // An exponent beyond int's range is kept as written: equal only to the same spelling.
            return raw;
        }

        var mantissa = exponentAt < 0 ? body : body[..exponentAt];
        var point = mantissa.IndexOf('.');
        var fraction = point < 0 ? "" : mantissa[(point + 1)..];
        var digits = ((point < 0 ? mantissa : mantissa[..point]) + fraction).TrimStart('0');
        exponent -= fraction.Length;
        var trimmed = digits.TrimEnd('0');
        exponent += digits.Length - trimmed.Length;
        if (trimmed.Length == 0)
        {
            return "0";
        }

        var sign = negative ? "-" : "";
        // The position of the decimal point relative to the digits' start.
        var pointAt = trimmed.Length + exponent;
        if (exponent >= 0 && pointAt <= 40)
        {
            return sign + trimmed + new string('0', exponent);
        }

        if (exponent < 0 && pointAt > -40)
        {
            return pointAt > 0 ? $"{sign}{trimmed[..pointAt]}.{trimmed[pointAt..]}" : $"{sign}0.{new string('0', -pointAt)}{trimmed}";
        }

        return $"{sign}{trimmed[0]}{(trimmed.Length > 1 ? "." + trimmed[1..] : "")}e{pointAt - 1}";
    }
}
