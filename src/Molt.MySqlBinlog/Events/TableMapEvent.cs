using Molt.MySqlBinlog.Protocol;
using Molt.MySqlBinlog.Values;

namespace Molt.MySqlBinlog.Events;

/// <summary>TABLE_MAP: binds a table id to a schema, table and column layout for the row events that follow.</summary>
public sealed record TableMapEvent(EventHeader Header, ulong TableId, string Schema, string Table, IReadOnlyList<ColumnInfo> Columns,
    bool HasSignedness, bool HasColumnNames) : BinlogEvent(Header)
{
    internal static TableMapEvent Parse(EventHeader header, ReadOnlySpan<byte> body, int postHeaderLength, bool mariaDb)
    {
        var reader = new PayloadReader(body);
        var tableId = postHeaderLength == 6 ? reader.ReadUInt32() : reader.ReadUInt48();
        reader.Skip(2);
        var schema = reader.ReadFixedString(reader.ReadByte());
        reader.Skip(1);
        var table = reader.ReadFixedString(reader.ReadByte());
        reader.Skip(1);
        var count = reader.ReadLengthEncodedInt32();
        var types = reader.ReadBytes(count).ToArray();
        var metadataBlock = new PayloadReader(reader.ReadLengthEncodedBytes());
        var nullable = reader.ReadBytes((count + 7) / 8);
        var columns = new ColumnInfo[count];
        for (var i = 0; i < count; i++)
        {
            var type = (ColumnType)types[i];
            var metadata = ColumnTypes.MetadataLength(type) switch
            {
                0 => (ushort)0,
                1 => metadataBlock.ReadByte(),
                // VARCHAR's maximum length is little-endian; the other two-byte metadata is two separate bytes.
                _ when type is ColumnType.VarChar or ColumnType.VarString => metadataBlock.ReadUInt16(),
                _ => (ushort)(metadataBlock.ReadByte() << 8 | metadataBlock.ReadByte()),
            };
            columns[i] = new ColumnInfo { Index = i, Type = type, Metadata = metadata, Nullable = (nullable[i / 8] >> (i % 8) & 1) != 0 };
        }

        var optional = OptionalMetadata.Apply(columns, reader.ReadRest(), mariaDb);
        return new TableMapEvent(header, tableId, schema, table, columns, optional.HasSignedness, optional.HasColumnNames);
    }

    /// <summary>
    /// True when <paramref name="other"/> describes the same table with the same columns, metadata included: the source
    /// logs a table map before every transaction's rows, and a reader that has described this one need not do it again.
    /// </summary>
    public bool HasSameLayout(TableMapEvent other)
    {
        if (TableId != other.TableId || Schema != other.Schema || Table != other.Table || HasSignedness != other.HasSignedness
            || HasColumnNames != other.HasColumnNames || Columns.Count != other.Columns.Count)
        {
            return false;
        }

        for (var i = 0; i < Columns.Count; i++)
        {
            var (a, b) = (Columns[i], other.Columns[i]);
            if (a != b && !(a with { EnumValues = null, SetValues = null } == (b with { EnumValues = null, SetValues = null })
                    && SameLabels(a.EnumValues, b.EnumValues) && SameLabels(a.SetValues, b.SetValues)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool SameLabels(IReadOnlyList<string>? a, IReadOnlyList<string>? b) =>
        ReferenceEquals(a, b) || (a is not null && b is not null && a.SequenceEqual(b, StringComparer.Ordinal));

    /// <summary>A copy with the caller's signedness for tables whose binlog has no SIGNEDNESS metadata.</summary>
    public TableMapEvent WithSignedness(IReadOnlyList<bool> unsignedColumns)
    {
        if (unsignedColumns.Count != Columns.Count)
        {
            throw new ArgumentException($"{Schema}.{Table} has {Columns.Count} columns in the binlog, the signedness given has {unsignedColumns.Count}.", nameof(unsignedColumns));
        }

        return this with { Columns = Columns.Select((c, i) => c with { IsUnsigned = unsignedColumns[i] }).ToArray(), HasSignedness = true };
    }
}
