using Molt.MySqlBinlog.Protocol;
using Molt.MySqlBinlog.Values;

namespace Molt.MySqlBinlog.Events;

/// <summary>
/// TABLE_MAP's optional metadata (type, length, value fields), written in full with binlog_row_metadata=FULL: signedness,
/// charsets, names, ENUM/SET labels, primary key. Unknown field types are skipped: each says its own length.
/// </summary>
internal static class OptionalMetadata
{
    private const byte Signedness = 1;
    private const byte DefaultCharset = 2;
    private const byte ColumnCharset = 3;
    private const byte ColumnName = 4;
    private const byte SetStrValue = 5;
    private const byte EnumStrValue = 6;
    private const byte SimplePrimaryKey = 8;
    private const byte PrimaryKeyWithPrefix = 9;
    private const byte EnumAndSetDefaultCharset = 10;
    private const byte EnumAndSetColumnCharset = 11;

    public static (bool HasSignedness, bool HasColumnNames) Apply(ColumnInfo[] columns, ReadOnlySpan<byte> fields, bool mariaDb)
    {
        var reader = new PayloadReader(fields);
        bool signedness = false, names = false;
        var characterColumns = Indexes(columns, c => ColumnTypes.IsCharacter(c.RealType, mariaDb));
        var enumSetColumns = Indexes(columns, c => c.RealType is ColumnType.Enum or ColumnType.Set);
        while (!reader.AtEnd)
        {
            var type = reader.ReadByte();
            var value = new PayloadReader(reader.ReadLengthEncodedBytes());
            switch (type)
            {
                case Signedness:
                    ApplySignedness(columns, ref value);
                    signedness = true;
                    break;
                case DefaultCharset:
                    ApplyDefaultCharset(columns, characterColumns, ref value);
                    break;
                case ColumnCharset:
                    ApplyColumnCharsets(columns, characterColumns, ref value);
                    break;
                case EnumAndSetDefaultCharset:
                    ApplyDefaultCharset(columns, enumSetColumns, ref value);
                    break;
                case EnumAndSetColumnCharset:
                    ApplyColumnCharsets(columns, enumSetColumns, ref value);
                    break;
                case ColumnName:
                    for (var i = 0; i < columns.Length; i++)
                    {
                        columns[i] = columns[i] with { Name = value.ReadLengthEncodedString() };
                    }

                    names = true;
                    break;
                case SetStrValue:
                    foreach (var i in Indexes(columns, c => c.RealType == ColumnType.Set))
                    {
                        columns[i] = columns[i] with { SetValues = Labels(ref value) };
                    }

                    break;
                case EnumStrValue:
                    foreach (var i in Indexes(columns, c => c.RealType == ColumnType.Enum))
                    {
                        columns[i] = columns[i] with { EnumValues = Labels(ref value) };
                    }

                    break;
                case SimplePrimaryKey:
                    while (!value.AtEnd)
                    {
                        MarkPrimaryKey(columns, value.ReadLengthEncodedInt32());
                    }

                    break;
                case PrimaryKeyWithPrefix:
                    while (!value.AtEnd)
                    {
                        MarkPrimaryKey(columns, value.ReadLengthEncodedInt32());
                        value.ReadLengthEncoded();
                    }

                    break;
            }
        }

        return (signedness, names);
    }

    private static void ApplySignedness(ColumnInfo[] columns, ref PayloadReader value)
    {
        var bits = value.ReadRest();
        var numeric = 0;
        for (var i = 0; i < columns.Length; i++)
        {
            if (!ColumnTypes.IsNumeric(columns[i].Type))
            {
                continue;
            }

            // Most significant bit first, one bit per numeric column.
            var unsigned = (bits[numeric / 8] >> (7 - numeric % 8) & 1) != 0;
            columns[i] = columns[i] with { IsUnsigned = unsigned };
            numeric++;
        }
    }

    private static void ApplyDefaultCharset(ColumnInfo[] columns, List<int> described, ref PayloadReader value)
    {
        var fallback = value.ReadLengthEncodedInt32();
        foreach (var i in described)
        {
            columns[i] = columns[i] with { CollationId = fallback };
        }

        while (!value.AtEnd)
        {
            var nth = value.ReadLengthEncodedInt32();
            var collation = value.ReadLengthEncodedInt32();
            columns[described[nth]] = columns[described[nth]] with { CollationId = collation };
        }
    }

    private static void ApplyColumnCharsets(ColumnInfo[] columns, List<int> described, ref PayloadReader value)
    {
        foreach (var i in described)
        {
            columns[i] = columns[i] with { CollationId = value.ReadLengthEncodedInt32() };
        }
    }

    private static string[] Labels(ref PayloadReader value)
    {
        var labels = new string[value.ReadLengthEncodedInt32()];
        for (var j = 0; j < labels.Length; j++)
        {
            labels[j] = value.ReadLengthEncodedString();
        }

        return labels;
    }

    private static void MarkPrimaryKey(ColumnInfo[] columns, int index)
    {
        if (index < columns.Length)
        {
            columns[index] = columns[index] with { IsPrimaryKey = true };
        }
    }

    private static List<int> Indexes(ColumnInfo[] columns, Func<ColumnInfo, bool> predicate) =>
        columns.Where(predicate).Select(c => c.Index).ToList();
}
