using Molt.MySqlBinlog.Protocol;
using ZstdSharp;

namespace Molt.MySqlBinlog.Events;

/// <summary>
/// MySQL 8.0.20+ TRANSACTION_PAYLOAD (binlog_transaction_compression=ON): a header of (type, length, value) fields in
/// packed integers up to an end mark, then the payload: the transaction's events, zstd-compressed or not, each with its
/// own header and without a checksum.
/// </summary>
internal static class TransactionPayload
{
    private const int EndMark = 0;
    private const int PayloadSize = 1;
    private const int CompressionType = 2;
    private const int UncompressedSize = 3;
    private const int Zstd = 0;
    private const int NoCompression = 255;

    public static byte[] Unwrap(ReadOnlySpan<byte> body)
    {
        var reader = new PayloadReader(body);
        ulong? size = null, uncompressed = null;
        var compression = NoCompression;
        while (!reader.AtEnd)
        {
            var type = reader.ReadLengthEncoded();
            if (type == EndMark)
            {
                break;
            }

            var field = new PayloadReader(reader.ReadBytes(reader.ReadLengthEncodedInt32()));
            switch (type)
            {
                case PayloadSize:
                    size = field.ReadLengthEncoded();
                    break;
                case CompressionType:
                    compression = (int)field.ReadLengthEncoded();
                    break;
                case UncompressedSize:
                    uncompressed = field.ReadLengthEncoded();
                    break;
            }
        }

        var payload = reader.ReadBytes(checked((int)(size ?? (ulong)reader.Remaining)));
        switch (compression)
        {
            case NoCompression:
                return payload.ToArray();
            case Zstd:
            {
                using var decompressor = new Decompressor();
                var output = decompressor.Unwrap(payload).ToArray();
                if (uncompressed is { } expected && (ulong)output.Length != expected)
                {
                    throw new BinlogException(BinlogErrorIds.ProtocolViolation,
                        $"A TRANSACTION_PAYLOAD event says {expected} bytes uncompressed, zstd gave {output.Length}.");
                }

                return output;
            }

            default:
                throw new BinlogException(BinlogErrorIds.UnsupportedEvent, $"A TRANSACTION_PAYLOAD event uses compression type {compression}; only zstd and none are known.");
        }
    }
}
