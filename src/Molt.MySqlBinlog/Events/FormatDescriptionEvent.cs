using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Events;

public enum ChecksumAlgorithm : byte
{
    None = 0,
    Crc32 = 1,
}

/// <summary>FORMAT_DESCRIPTION: the writer's version, the post-header length of each event type and the checksum algorithm.</summary>
public sealed record FormatDescriptionEvent(EventHeader Header, ushort BinlogVersion, string ServerVersion, byte HeaderLength,
    IReadOnlyList<byte> PostHeaderLengths, ChecksumAlgorithm Checksum) : BinlogEvent(Header)
{
    private const int ServerVersionLength = 50;

    /// <summary>The checksum algorithm byte and the 4 checksum bytes that end the event.</summary>
    private const int ChecksumTrailer = 5;

    public int PostHeaderLength(BinlogEventType type) => (int)type - 1 < PostHeaderLengths.Count ? PostHeaderLengths[(int)type - 1] : 0;

    /// <summary>Parses the whole event (header included): the algorithm must be known before the checksum can be checked.</summary>
    internal static FormatDescriptionEvent Parse(EventHeader header, ReadOnlySpan<byte> raw)
    {
        var reader = new PayloadReader(raw[EventHeader.Length..]);
        var version = reader.ReadUInt16();
        var server = System.Text.Encoding.ASCII.GetString(reader.ReadBytes(ServerVersionLength)).TrimEnd('\0');
        reader.Skip(4);
        var headerLength = reader.ReadByte();
        var lengths = reader.ReadBytes(reader.Remaining - ChecksumTrailer).ToArray();
        var algorithm = reader.ReadByte();
        if (algorithm is not (0 or 1))
        {
            throw new BinlogException(BinlogErrorIds.UnsupportedEvent, $"The binlog uses checksum algorithm {algorithm}, which this client does not know.");
        }

        return new FormatDescriptionEvent(header, version, server, headerLength, lengths, (ChecksumAlgorithm)algorithm);
    }
}
