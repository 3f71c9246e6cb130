using System.Numerics;

namespace Molt.MySqlBinlog.Protocol;

/// <summary>
/// Reads MySQL's serialization-library binary archive (8.3+, used by GTID_TAGGED_LOG_EVENT): variable-length integers
/// of 1-9 bytes whose first byte's trailing ones count the bytes that follow, signed ones with the sign in the lowest
/// bit, strings as a variable-length length and bytes, and messages as numbered fields any of which may be absent.
/// </summary>
internal ref struct SerializedFieldReader
{
    private PayloadReader reader;

    public SerializedFieldReader(ReadOnlySpan<byte> data) => reader = new PayloadReader(data);

    public readonly int Position => reader.Position;

    public ulong ReadUnsigned()
    {
        var first = reader.ReadByte();
        var length = BitOperations.TrailingZeroCount(~(uint)first) + 1;
        if (length == 1)
        {
            return (ulong)first >> 1;
        }

        var rest = reader.ReadUIntLittleEndian(length - 1);
        // The value's low bits sit above the length bits of the first byte; a 9-byte number fills all 8 further bytes.
        return length == 9 ? rest : ((ulong)first >> length) | (rest << (8 - length));
    }

    public long ReadSigned()
    {
        var encoded = ReadUnsigned();
        var magnitude = encoded >> 1;
        return (long)((encoded & 1) == 0 ? magnitude : ~magnitude);
    }

    public ReadOnlySpan<byte> ReadString(int maximumLength)
    {
        var length = ReadUnsigned();
        if (length > (ulong)maximumLength)
        {
            throw new BinlogException(BinlogErrorIds.ProtocolViolation,
                $"A serialized string says it has {length} bytes, more than the {maximumLength} its field allows.");
        }

        return reader.ReadBytes((int)length);
    }

    /// <summary>True, and the field id consumed, when the next field is <paramref name="fieldId"/>; false when that field is absent.</summary>
    public bool NextFieldIs(ulong fieldId, int messageEnd)
    {
        if (reader.Position >= messageEnd)
        {
            return false;
        }

        var saved = this;
        if (ReadUnsigned() == fieldId)
        {
            return true;
        }

        this = saved;
        return false;
    }
}
