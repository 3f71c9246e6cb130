using System.IO.Compression;
using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Events;

/// <summary>
/// MariaDB's log_bin_compress events: QUERY_COMPRESSED has its statement text, ROWS_COMPRESSED its row data, replaced by
/// a header byte (0x80 | algorithm &lt;&lt; 4 | length bytes), the uncompressed length big-endian, and a zlib stream.
/// Unwrapping gives the body of the plain QUERY or ROWS event.
/// </summary>
internal static class CompressedEvents
{
    public static BinlogEventType PlainType(BinlogEventType type) => type switch
    {
        BinlogEventType.MariaDbQueryCompressed => BinlogEventType.Query,
        BinlogEventType.MariaDbWriteRowsCompressedV1 => BinlogEventType.WriteRowsV1,
        BinlogEventType.MariaDbUpdateRowsCompressedV1 => BinlogEventType.UpdateRowsV1,
        BinlogEventType.MariaDbDeleteRowsCompressedV1 => BinlogEventType.DeleteRowsV1,
        BinlogEventType.MariaDbWriteRowsCompressed => BinlogEventType.WriteRows,
        BinlogEventType.MariaDbUpdateRowsCompressed => BinlogEventType.UpdateRows,
        BinlogEventType.MariaDbDeleteRowsCompressed => BinlogEventType.DeleteRows,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a compressed event type"),
    };

    public static byte[] UnwrapQuery(ReadOnlySpan<byte> body, int postHeaderLength)
    {
        var reader = new PayloadReader(body);
        reader.Skip(8);
        var schemaLength = reader.ReadByte();
        reader.Skip(2);
        var statusLength = reader.ReadUInt16();
        var plainPrefix = postHeaderLength + statusLength + schemaLength + 1;
        return Join(body[..plainPrefix], Inflate(body[plainPrefix..]));
    }

    public static byte[] UnwrapRows(ReadOnlySpan<byte> body, BinlogEventType plainType, int postHeaderLength)
    {
        var reader = new PayloadReader(body);
        reader.Skip(postHeaderLength == 6 ? 6 : 8);
        if (RowsEvent.IsVersion2(plainType))
        {
            reader.Skip(reader.ReadUInt16() - 2);
        }

        var width = reader.ReadLengthEncodedInt32();
        reader.Skip((width + 7) / 8 * (RowsEvent.KindOf(plainType) == RowsEventKind.Update ? 2 : 1));
        var plainPrefix = reader.Position;
        return Join(body[..plainPrefix], Inflate(body[plainPrefix..]));
    }

    private static byte[] Inflate(ReadOnlySpan<byte> compressed)
    {
        var header = compressed[0];
        if ((header & 0x80) == 0 || (header & 0x70) != 0)
        {
            throw new BinlogException(BinlogErrorIds.UnsupportedEvent, $"A compressed MariaDB event has header byte 0x{header:X2}; only zlib (algorithm 0) is known.");
        }

        var lengthBytes = header & 0x07;
        var reader = new PayloadReader(compressed[1..]);
        var length = checked((int)reader.ReadUIntBigEndian(lengthBytes));
        var output = new byte[length];
        using var input = new MemoryStream(compressed[(1 + lengthBytes)..].ToArray());
        using var zlib = new ZLibStream(input, CompressionMode.Decompress);
        zlib.ReadExactly(output);
        return output;
    }

    private static byte[] Join(ReadOnlySpan<byte> prefix, byte[] rest) => [.. prefix, .. rest];
}
