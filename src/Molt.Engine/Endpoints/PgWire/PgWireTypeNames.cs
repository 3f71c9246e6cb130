namespace Molt.Engine.Endpoints.PgWire;

/// <summary>The pgwire type names Npgsql's binary COPY writes values as, from the SQL spelling of a type.</summary>
internal static class PgWireTypeNames
{
    private static readonly Dictionary<string, string> WireAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["int"] = "integer", ["int4"] = "integer", ["int2"] = "smallint", ["int8"] = "bigint", ["bool"] = "boolean", ["float4"] = "real",
        ["float8"] = "double precision", ["decimal"] = "numeric", ["varchar"] = "character varying", ["char"] = "character",
        ["timestamptz"] = "timestamp with time zone", ["timestamp"] = "timestamp without time zone", ["timetz"] = "time with time zone",
        ["time"] = "time without time zone", ["varbit"] = "bit varying",
    };

    /// <summary>The pgwire type name of a type as SQL spells it: modifiers dropped, aliases resolved.</summary>
    public static string WireType(string sql)
    {
        var array = sql.EndsWith("[]", StringComparison.Ordinal) ? "[]" : "";
        var name = sql[..^array.Length];
        var parenthesis = name.IndexOf('(', StringComparison.Ordinal);
        if (parenthesis >= 0)
        {
            var close = name.IndexOf(')', parenthesis);
            name = (name[..parenthesis] + (close >= 0 ? name[(close + 1)..] : "")).Trim();
        }

        return WireAliases.GetValueOrDefault(name.Trim(), name.Trim().ToLowerInvariant()) + array;
    }
}
