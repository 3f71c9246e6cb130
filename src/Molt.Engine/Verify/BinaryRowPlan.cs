using Molt.Engine.Schema;

namespace Molt.Engine.Verify;

/// <summary>How a column's binary COPY bytes are compared on the fast path.</summary>
internal enum BinaryValueKind
{
    /// <summary>Equal bytes exactly when the text forms the slow path compares are equal (integers, text, timestamps...).</summary>
    Exact,

    /// <summary>numeric: its bytes carry the scale (1.0 and 1.00 differ), so differing bytes are decoded and compared by value.</summary>
    Numeric,

    /// <summary>real: differing bytes decoded (-0 equals 0, as both databases compare them; NaN's payload does not count; a tolerance applies).</summary>
    Single,

    /// <summary>double precision, as <see cref="Single"/>.</summary>
    Double,

    /// <summary>json: its bytes are its text, compared by meaning when they differ.</summary>
    Json,

    /// <summary>jsonb: a version byte, then its text.</summary>
    Jsonb,
}

/// <summary>How a key column's bytes order as the ORDER BY orders its values.</summary>
internal enum BinaryKeyKind
{
    /// <summary>smallint, integer, bigint: big-endian two's complement.</summary>
    SignedInteger,

    /// <summary>text and varchar under COLLATE "C": byte order of their UTF-8, the shorter first on a tie.</summary>
    Text,

    /// <summary>uuid: byte order.</summary>
    Uuid,
}

/// <summary>
/// Whether a table can be compared on the fast path, where both PostgreSQL sides send binary COPY in key order and rows
/// are compared as bytes: every key and compared column of the same declared, built-in type on both sides, of a type
/// whose bytes this class knows how to compare. Anything else (arrays, enums, domains, spatial, money, bit, varchar
/// against text...) stays on the slow path, which compares text forms.
/// </summary>
internal sealed record BinaryRowPlan(IReadOnlyList<BinaryKeyKind> Keys, IReadOnlyList<BinaryValueKind> Values)
{
    /// <summary>The plan, or null with the reason the slow path is used.</summary>
    public static (BinaryRowPlan? Plan, string? Reason) For(IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnModel> targetKey,
        IReadOnlyList<ColumnModel> columns, IReadOnlyList<ColumnModel> targetColumns)
    {
        if (key.Count == 0)
        {
            return (null, "no primary key");
        }

        if (Differing(key.Concat(columns), targetKey.Concat(targetColumns)) is { } differing)
        {
            return (null, $"column {differing} is not of the same type on both sides");
        }

        var keys = new List<BinaryKeyKind>();
        foreach (var column in key)
        {
            if (KeyKind(column.Type) is not { } kind)
            {
                return (null, $"key column {column.Name} is of type {column.Type.Declared}");
            }

            keys.Add(kind);
        }

        var values = new List<BinaryValueKind>();
        foreach (var column in columns)
        {
            if (ValueKind(column.Type) is not { } kind)
            {
                return (null, $"column {column.Name} is of type {column.Type.Declared}");
            }

            values.Add(kind);
        }

        return (new BinaryRowPlan(keys, values), null);
    }

    private static string? Differing(IEnumerable<ColumnModel> source, IEnumerable<ColumnModel> target) =>
        source.Zip(target).FirstOrDefault(p => !SameType(p.First.Type, p.Second.Type)).First?.Name;

    private static bool SameType(ColumnType a, ColumnType b) =>
        a.Declared == b.Declared && a.Name == b.Name && a.IsArray == b.IsArray && a.UserTypeName is null && b.UserTypeName is null;

    private static BinaryKeyKind? KeyKind(ColumnType type) => type.IsArray || type.UserTypeName is not null ? null : type.Name switch
    {
        "smallint" or "integer" or "bigint" => BinaryKeyKind.SignedInteger,
        "text" or "character varying" => BinaryKeyKind.Text,
        "uuid" => BinaryKeyKind.Uuid,
        _ => null,
    };

    private static BinaryValueKind? ValueKind(ColumnType type) => type.IsArray || type.UserTypeName is not null ? null : type.Name switch
    {
        // Each of these sends its value's internal form, which its text form (under the pinned settings) maps one to one.
        "smallint" or "integer" or "bigint" or "boolean" or "text" or "character varying" or "character" or "bytea" or "uuid" or "date"
            or "timestamp without time zone" or "timestamp with time zone" or "time without time zone" or "interval" => BinaryValueKind.Exact,
        "numeric" => BinaryValueKind.Numeric,
        "real" => BinaryValueKind.Single,
        "double precision" => BinaryValueKind.Double,
        "json" => BinaryValueKind.Json,
        "jsonb" => BinaryValueKind.Jsonb,
        _ => null,
    };
}
