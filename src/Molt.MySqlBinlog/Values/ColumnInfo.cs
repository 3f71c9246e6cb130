namespace Molt.MySqlBinlog.Values;

/// <summary>
/// One column of a TABLE_MAP event: its binlog type and metadata, and what the optional metadata (binlog_row_metadata=FULL)
/// or the caller told about it. <see cref="RealType"/> unfolds STRING into ENUM/SET/CHAR.
/// </summary>
public sealed record ColumnInfo
{
    public required int Index { get; init; }

    public required ColumnType Type { get; init; }

    /// <summary>The type's metadata as written in TABLE_MAP (two bytes for STRING are real type, then length).</summary>
    public required ushort Metadata { get; init; }

    public required bool Nullable { get; init; }

    public string? Name { get; init; }

    /// <summary>True/false from SIGNEDNESS metadata or the caller; null when neither said (integers then decode as signed).</summary>
    public bool? IsUnsigned { get; init; }

    /// <summary>The collation id (e.g. 63 = binary) of a character, ENUM or SET column, when the metadata has it.</summary>
    public int? CollationId { get; init; }

    public IReadOnlyList<string>? EnumValues { get; init; }

    public IReadOnlyList<string>? SetValues { get; init; }

    public bool IsPrimaryKey { get; init; }

    /// <summary>The real type: STRING columns carry ENUM, SET or STRING in their metadata.</summary>
    public ColumnType RealType => Type == ColumnType.String && Metadata >= 256 ? StringRealType(Metadata).Type : Type;

    public bool IsBinaryCollation => CollationId == 63;

    /// <summary>The label of an ENUM index (1-based; 0 is the empty error value), when the labels are known.</summary>
    public string? EnumLabel(long index) => index == 0 ? "" : EnumValues is { } values && index <= values.Count ? values[(int)index - 1] : null;

    /// <summary>The labels of a SET bitmask, comma-separated as MySQL prints them, when the labels are known.</summary>
    public string? SetLabels(ulong mask)
    {
        if (SetValues is not { } values)
        {
            return null;
        }

        return string.Join(",", values.Where((_, i) => i < 64 && (mask & 1UL << i) != 0));
    }

    /// <summary>STRING's metadata folds the real type and a length over 255 into two bytes (the 0x30 trick of mysql-server).</summary>
    internal static (ColumnType Type, int Length) StringRealType(ushort metadata)
    {
        var b0 = metadata >> 8;
        var b1 = metadata & 0xFF;
        if ((b0 & 0x30) != 0x30)
        {
            return ((ColumnType)(b0 | 0x30), b1 | ((b0 & 0x30) ^ 0x30) << 4);
        }

        return ((ColumnType)b0, b1);
    }
}
