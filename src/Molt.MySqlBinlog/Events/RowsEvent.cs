using Molt.MySqlBinlog.Protocol;
using Molt.MySqlBinlog.Values;

namespace Molt.MySqlBinlog.Events;

public enum RowsEventKind
{
    Write,
    Update,
    Delete,
}

/// <summary>
/// One row image: a value per column of the table, null for SQL NULL and for columns absent from the image (binlog_row_image
/// MINIMAL or NOBLOB); <see cref="IsPresent"/> tells the two apart, so absent columns can be kept "unchanged".
/// </summary>
public sealed class BinlogRowImage
{
    private readonly object?[] values;
    private readonly bool[] present;

    internal BinlogRowImage(object?[] values, bool[] present)
    {
        this.values = values;
        this.present = present;
    }

    public IReadOnlyList<object?> Values => values;

    public IReadOnlyList<bool> Present => present;

    public int Count => values.Length;

    public object? this[int column] => values[column];

    public bool IsPresent(int column) => present[column];

    public bool IsNull(int column) => present[column] && values[column] is null;
}

/// <summary>A changed row: After for inserts, Before for deletes, both for updates.</summary>
public sealed record BinlogRow(BinlogRowImage? Before, BinlogRowImage? After);

/// <summary>WRITE/UPDATE/DELETE_ROWS (v1 and v2, and MariaDB's compressed forms once unwrapped) with decoded rows.</summary>
public sealed record RowsEvent(EventHeader Header, RowsEventKind Kind, TableMapEvent Table, ushort Flags, IReadOnlyList<BinlogRow> Rows) : BinlogEvent(Header)
{
    /// <summary>STMT_END_F: the last row event of its statement.</summary>
    public bool IsStatementEnd => (Flags & 0x01) != 0;

    internal static RowsEventKind KindOf(BinlogEventType type) => type switch
    {
        BinlogEventType.WriteRowsV1 or BinlogEventType.WriteRows => RowsEventKind.Write,
        BinlogEventType.UpdateRowsV1 or BinlogEventType.UpdateRows => RowsEventKind.Update,
        _ => RowsEventKind.Delete,
    };

    internal static bool IsVersion2(BinlogEventType type) => type is BinlogEventType.WriteRows or BinlogEventType.UpdateRows or BinlogEventType.DeleteRows;

    internal static ulong ReadTableId(ReadOnlySpan<byte> body, int postHeaderLength)
    {
        var reader = new PayloadReader(body);
        return postHeaderLength == 6 ? reader.ReadUInt32() : reader.ReadUInt48();
    }

    internal static RowsEvent Parse(EventHeader header, BinlogEventType type, ReadOnlySpan<byte> body, int postHeaderLength, Func<ulong, TableMapEvent> tables)
    {
        var reader = new PayloadReader(body);
        var tableId = postHeaderLength == 6 ? reader.ReadUInt32() : reader.ReadUInt48();
        var flags = reader.ReadUInt16();
        if (IsVersion2(type))
        {
            // The extra-data length counts its own two bytes.
            reader.Skip(reader.ReadUInt16() - 2);
        }

        var table = tables(tableId);
        var width = reader.ReadLengthEncodedInt32();
        if (width > table.Columns.Count)
        {
            throw new BinlogException(BinlogErrorIds.ProtocolViolation,
                $"A row event for {table.Schema}.{table.Table} has {width} columns, its table map {table.Columns.Count}.");
        }

        var kind = KindOf(type);
        var presentBefore = ReadBitmap(ref reader, width, table.Columns.Count);
        var presentAfter = kind == RowsEventKind.Update ? ReadBitmap(ref reader, width, table.Columns.Count) : presentBefore;
        var rows = new List<BinlogRow>();
        while (!reader.AtEnd)
        {
            var first = ReadImage(ref reader, table, presentBefore);
            rows.Add(kind switch
            {
                RowsEventKind.Write => new BinlogRow(null, first),
                RowsEventKind.Delete => new BinlogRow(first, null),
                _ => new BinlogRow(first, ReadImage(ref reader, table, presentAfter)),
            });
        }

        return new RowsEvent(header, kind, table, flags, rows);
    }

    private static bool[] ReadBitmap(ref PayloadReader reader, int width, int columns)
    {
        var bytes = reader.ReadBytes((width + 7) / 8);
        var bits = new bool[columns];
        for (var i = 0; i < width; i++)
        {
            bits[i] = (bytes[i / 8] >> (i % 8) & 1) != 0;
        }

        return bits;
    }

    private static BinlogRowImage ReadImage(ref PayloadReader reader, TableMapEvent table, bool[] present)
    {
        var presentCount = 0;
        foreach (var p in present)
        {
            presentCount += p ? 1 : 0;
        }

        var nulls = reader.ReadBytes((presentCount + 7) / 8);
        var values = new object?[table.Columns.Count];
        var nth = 0;
        for (var i = 0; i < present.Length; i++)
        {
            if (!present[i])
            {
                continue;
            }

            var isNull = (nulls[nth / 8] >> (nth % 8) & 1) != 0;
            nth++;
            if (!isNull)
            {
                try
                {
                    values[i] = ColumnDecoder.Decode(ref reader, table.Columns[i]);
                }
                catch (BinlogException e) when (e.ErrorId == BinlogErrorIds.ProtocolViolation)
                {
                    throw new BinlogException(BinlogErrorIds.ProtocolViolation,
                        $"Column {i} ({table.Columns[i].Name ?? table.Columns[i].Type.ToString()}) of {table.Schema}.{table.Table} does not fit its row event: {e.Message}", innerException: e);
                }
            }
        }

        return new BinlogRowImage(values, present);
    }
}
