using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Molt.MySqlBinlog.Protocol;

/// <summary>Builds a command or handshake payload in the protocol's little-endian layouts.</summary>
internal sealed class PayloadWriter
{
    private readonly ArrayBufferWriter<byte> buffer = new();

    public ReadOnlyMemory<byte> Written => buffer.WrittenMemory;

    public PayloadWriter WriteByte(byte value)
    {
        buffer.GetSpan(1)[0] = value;
        buffer.Advance(1);
        return this;
    }

    public PayloadWriter WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.GetSpan(2), value);
        buffer.Advance(2);
        return this;
    }

    public PayloadWriter WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.GetSpan(4), value);
        buffer.Advance(4);
        return this;
    }

    public PayloadWriter WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.GetSpan(8), value);
        buffer.Advance(8);
        return this;
    }

    public PayloadWriter WriteBytes(ReadOnlySpan<byte> bytes)
    {
        buffer.Write(bytes);
        return this;
    }

    public PayloadWriter WriteZeros(int count)
    {
        buffer.GetSpan(count)[..count].Clear();
        buffer.Advance(count);
        return this;
    }

    public PayloadWriter WriteLengthEncoded(ulong value)
    {
        switch (value)
        {
            case < 0xFB:
                return WriteByte((byte)value);
            case <= 0xFFFF:
                return WriteByte(0xFC).WriteUInt16((ushort)value);
            case <= 0xFFFFFF:
                WriteByte(0xFD);
                return WriteBytes([(byte)value, (byte)(value >> 8), (byte)(value >> 16)]);
            default:
                return WriteByte(0xFE).WriteUInt64(value);
        }
    }

    public PayloadWriter WriteLengthEncodedBytes(ReadOnlySpan<byte> bytes) => WriteLengthEncoded((ulong)bytes.Length).WriteBytes(bytes);

    public PayloadWriter WriteString(string text) => WriteBytes(Encoding.UTF8.GetBytes(text));

    public PayloadWriter WriteNullTerminated(string text) => WriteString(text).WriteByte(0);

    /// <summary>A string prefixed by its one-byte length, as COM_REGISTER_SLAVE wants; longer text is refused, not cut.</summary>
    public PayloadWriter WriteShortString(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > byte.MaxValue)
        {
            throw new ArgumentException($"'{text}' is longer than 255 bytes.", nameof(text));
        }

        return WriteByte((byte)bytes.Length).WriteBytes(bytes);
    }
}
