using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Events;

/// <summary>The 19-byte v4 event header; <see cref="LogPosition"/> is where the next event starts (0 for artificial events).</summary>
public readonly record struct EventHeader(uint Timestamp, BinlogEventType Type, uint ServerId, uint EventSize, uint LogPosition, ushort Flags)
{
    public const int Length = 19;

    /// <summary>LOG_EVENT_ARTIFICIAL_F: made up by the server for the stream (the first ROTATE), not in the binlog.</summary>
    public bool IsArtificial => (Flags & 0x20) != 0;

    /// <summary>LOG_EVENT_IGNORABLE_F: a reader that does not know the type may skip it.</summary>
    public bool IsIgnorable => (Flags & 0x80) != 0;

    internal static EventHeader Parse(ReadOnlySpan<byte> raw)
    {
        var reader = new PayloadReader(raw);
        return new EventHeader(reader.ReadUInt32(), (BinlogEventType)reader.ReadByte(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt16());
    }
}
