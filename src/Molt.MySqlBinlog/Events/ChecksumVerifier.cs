using System.Buffers.Binary;
using System.IO.Hashing;

namespace Molt.MySqlBinlog.Events;

/// <summary>Checks the CRC32 that ends every event when the binlog is written with binlog_checksum=CRC32.</summary>
internal static class ChecksumVerifier
{
    public const int Length = 4;

    public static void Verify(ReadOnlySpan<byte> raw, EventHeader header)
    {
        if (raw.Length < EventHeader.Length + Length)
        {
            throw new BinlogException(BinlogErrorIds.ProtocolViolation, $"A {header.Type} event of {raw.Length} bytes is too short to hold a checksum.");
        }

        var expected = BinaryPrimitives.ReadUInt32LittleEndian(raw[^Length..]);
        var actual = Crc32.HashToUInt32(raw[..^Length]);
        if (expected != actual)
        {
            throw new BinlogException(BinlogErrorIds.ChecksumMismatch,
                $"The CRC32 of the {header.Type} event ending at binlog position {header.LogPosition} is 0x{actual:X8}, the event says 0x{expected:X8}: it was corrupted on the way.",
                "Reconnect and read the event again; if it repeats, the binlog file itself is damaged.");
        }
    }
}
