using System.Buffers.Binary;
using System.Text;

namespace Molt.MySqlBinlog.Protocol;

/// <summary>Reads the little-endian integers and strings of the client/server protocol and of binlog events.</summary>
internal ref struct PayloadReader
{
    private readonly ReadOnlySpan<byte> data;

    public PayloadReader(ReadOnlySpan<byte> data)
    {
        this.data = data;
        Position = 0;
    }

    public int Position { get; private set; }

    public readonly int Remaining => data.Length - Position;

    public readonly bool AtEnd => Position >= data.Length;

    public readonly byte Peek() => Position < data.Length ? data[Position] : throw Truncated(1);

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint ReadUInt24()
    {
        var b = Take(3);
        return (uint)(b[0] | b[1] << 8 | b[2] << 16);
    }

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong ReadUInt48()
    {
        var b = Take(6);
        return BinaryPrimitives.ReadUInt32LittleEndian(b) | (ulong)BinaryPrimitives.ReadUInt16LittleEndian(b[4..]) << 32;
    }

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public ulong ReadUIntLittleEndian(int length)
    {
        var b = Take(length);
        ulong value = 0;
        for (var i = length - 1; i >= 0; i--)
        {
            value = value << 8 | b[i];
        }

        return value;
    }

    public ulong ReadUIntBigEndian(int length)
    {
        var b = Take(length);
        ulong value = 0;
        foreach (var x in b)
        {
            value = value << 8 | x;
        }

        return value;
    }

    /// <summary>A length-encoded integer; null for the 0xFB NULL marker of text result rows.</summary>
    public ulong? ReadLengthEncodedOrNull()
    {
        var first = ReadByte();
        return first switch
        {
            < 0xFB => first,
            0xFB => null,
            0xFC => ReadUInt16(),
            0xFD => ReadUInt24(),
            0xFE => ReadUInt64(),
            _ => throw new BinlogException(BinlogErrorIds.ProtocolViolation, "The server sent 0xFF where a length-encoded integer was expected."),
        };
    }

    public ulong ReadLengthEncoded() => ReadLengthEncodedOrNull()
        ?? throw new BinlogException(BinlogErrorIds.ProtocolViolation, "The server sent a NULL marker where a length-encoded integer was expected.");

    public int ReadLengthEncodedInt32() => checked((int)ReadLengthEncoded());

    public ReadOnlySpan<byte> ReadBytes(int length) => Take(length);

    public ReadOnlySpan<byte> ReadLengthEncodedBytes() => Take(ReadLengthEncodedInt32());

    public string ReadLengthEncodedString() => Encoding.UTF8.GetString(ReadLengthEncodedBytes());

    public string ReadFixedString(int length) => Encoding.UTF8.GetString(Take(length));

    public ReadOnlySpan<byte> ReadNullTerminatedBytes()
    {
        var rest = data[Position..];
        var end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            throw new BinlogException(BinlogErrorIds.ProtocolViolation, "A NUL-terminated string has no terminator.");
        }

        Position += end + 1;
        return rest[..end];
    }

    public string ReadNullTerminatedString() => Encoding.UTF8.GetString(ReadNullTerminatedBytes());

    public ReadOnlySpan<byte> ReadRest() => Take(Remaining);

    public void Skip(int length) => Take(length);

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length < 0 || length > data.Length - Position)
        {
            throw Truncated(length);
        }

        var span = data.Slice(Position, length);
        Position += length;
        return span;
    }

    private readonly BinlogException Truncated(int wanted) => new(BinlogErrorIds.ProtocolViolation,
        $"A packet or event is shorter than its layout: {wanted} more bytes wanted at offset {Position} of {data.Length}.");
}
