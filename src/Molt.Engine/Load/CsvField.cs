namespace Molt.Engine.Load;

/// <summary>One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line break or reads as the NULL marker.</summary>
internal static class CsvField
{
    public static void Append(System.Text.StringBuilder line, string? value)
    {
        if (value is null)
        {
            line.Append(CsvShard.Null);
        }
        else if (value.Length == 0 || value == CsvShard.Null || value.AsSpan().IndexOfAny(",\"\r\n") >= 0)
        {
            // An empty string is quoted too, so that no reader takes it for a missing value.
            line.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }
        else
        {
            line.Append(value);
        }
    }
}
