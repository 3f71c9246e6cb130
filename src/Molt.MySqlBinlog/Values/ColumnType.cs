namespace Molt.MySqlBinlog.Values;

/// <summary>The column type codes of TABLE_MAP events (enum_field_types).</summary>
// The members keep MySQL's own names (MYSQL_TYPE_LONG, _DOUBLE, _STRING...), which CA1720 takes for CLR type names.
#pragma warning disable CA1720
public enum ColumnType : byte
{
    Decimal = 0,
    Tiny = 1,
    Short = 2,
    Long = 3,
    Float = 4,
    Double = 5,
    Null = 6,
    Timestamp = 7,
    LongLong = 8,
    Int24 = 9,
    Date = 10,
    Time = 11,
    DateTime = 12,
    Year = 13,
    NewDate = 14,
    VarChar = 15,
    Bit = 16,
    Timestamp2 = 17,
    DateTime2 = 18,
    Time2 = 19,
    TypedArray = 20,
    Vector = 242,
    Json = 245,
    NewDecimal = 246,
    Enum = 247,
    Set = 248,
    TinyBlob = 249,
    MediumBlob = 250,
    LongBlob = 251,
    Blob = 252,
    VarString = 253,
    String = 254,
    Geometry = 255,
}
#pragma warning restore CA1720

internal static class ColumnTypes
{
    /// <summary>The types the SIGNEDNESS optional metadata has a bit for.</summary>
    public static bool IsNumeric(ColumnType type) => type is ColumnType.Tiny or ColumnType.Short or ColumnType.Int24 or ColumnType.Long
        or ColumnType.LongLong or ColumnType.Float or ColumnType.Double or ColumnType.NewDecimal or ColumnType.Decimal;

    /// <summary>
    /// The types DEFAULT_CHARSET / COLUMN_CHARSET describe (ENUM and SET have their own entries). MariaDB counts GEOMETRY
    /// among them (with the binary collation), MySQL does not.
    /// </summary>
    public static bool IsCharacter(ColumnType type, bool mariaDb) => type is ColumnType.String or ColumnType.VarString or ColumnType.VarChar
        or ColumnType.Blob or ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob || (mariaDb && type == ColumnType.Geometry);

    /// <summary>The number of metadata bytes each type has in TABLE_MAP's metadata block.</summary>
    public static int MetadataLength(ColumnType type) => type switch
    {
        ColumnType.Float or ColumnType.Double or ColumnType.Blob or ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob
            or ColumnType.Geometry or ColumnType.Json or ColumnType.Vector or ColumnType.Timestamp2 or ColumnType.DateTime2 or ColumnType.Time2 => 1,
        ColumnType.VarChar or ColumnType.VarString or ColumnType.Bit or ColumnType.NewDecimal or ColumnType.String
            or ColumnType.Enum or ColumnType.Set or ColumnType.Decimal => 2,
        _ => 0,
    };
}
