using System.Text;

namespace Molt.MySqlBinlog.Protocol;

/// <summary>Recognises and parses the generic OK, ERR and EOF packets.</summary>
internal static class ServerPackets
{
    public const byte Ok = 0x00;
    public const byte Eof = 0xFE;
    public const byte Error = 0xFF;

    public static bool IsError(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload[0] == Error;

    public static bool IsOk(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload[0] == Ok;

    /// <summary>An EOF packet is 0xFE with fewer than 9 bytes; a longer 0xFE packet is a length-encoded value.</summary>
    public static bool IsEof(ReadOnlySpan<byte> payload) => payload.Length is > 0 and < 9 && payload[0] == Eof;

    public static BinlogServerException ParseError(ReadOnlySpan<byte> payload, string? context = null)
    {
        var reader = new PayloadReader(payload);
        reader.Skip(1);
        var code = reader.ReadUInt16();
        var state = "HY000";
        // The SQL state marker is absent from errors sent before the handshake completes.
        if (!reader.AtEnd && reader.Peek() == (byte)'#')
        {
            reader.Skip(1);
            state = reader.ReadFixedString(5);
        }

        return new BinlogServerException(code, state, Encoding.UTF8.GetString(reader.ReadRest()), context);
    }

    public static void ThrowIfError(ReadOnlySpan<byte> payload, string? context = null)
    {
        if (IsError(payload))
        {
            throw ParseError(payload, context);
        }
    }

    /// <summary>Accepts an OK packet, throws the server's error for an ERR packet, and anything else as a protocol violation.</summary>
    public static void ExpectOk(ReadOnlySpan<byte> payload, string context)
    {
        ThrowIfError(payload, context);
        if (!IsOk(payload))
        {
            throw new BinlogException(BinlogErrorIds.ProtocolViolation,
                $"{context}: the server answered with a packet starting 0x{(payload.IsEmpty ? 0 : payload[0]):X2} where OK was expected.");
        }
    }
}
