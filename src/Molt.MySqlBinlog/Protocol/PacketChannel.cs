namespace Molt.MySqlBinlog.Protocol;

/// <summary>
/// Frames payloads into protocol packets (3-byte length, 1-byte sequence id) and back. A payload of 16 MB - 1 or more
/// travels as several packets, the last one shorter than 16 MB - 1 (possibly empty); reading joins them again.
/// </summary>
internal sealed class PacketChannel : IAsyncDisposable
{
    internal const int MaxPacketPayload = 0xFFFFFF;

    private readonly byte[] header = new byte[4];
    private Stream stream;
    private byte sequence;

    public PacketChannel(Stream stream) => this.stream = stream;

    public Stream Stream => stream;

    /// <summary>Every command starts a new exchange at sequence id 0.</summary>
    public void ResetSequence() => sequence = 0;

    /// <summary>After TLS is negotiated the same exchange goes on over the encrypted stream.</summary>
    public void ReplaceStream(Stream encrypted) => stream = encrypted;

    public async ValueTask<byte[]> ReadPacketAsync(CancellationToken ct)
    {
        var length = await ReadHeaderAsync(ct).ConfigureAwait(false);
        if (length < MaxPacketPayload)
        {
            var single = new byte[length];
            await ReadExactlyAsync(single, ct).ConfigureAwait(false);
            return single;
        }

        using var joined = new MemoryStream();
        var chunk = new byte[MaxPacketPayload];
        while (true)
        {
            await ReadExactlyAsync(chunk.AsMemory(0, length), ct).ConfigureAwait(false);
            joined.Write(chunk, 0, length);
            if (length < MaxPacketPayload)
            {
                return joined.ToArray();
            }

            length = await ReadHeaderAsync(ct).ConfigureAwait(false);
        }
    }

    public async ValueTask WritePacketAsync(ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var offset = 0;
        while (true)
        {
            var length = Math.Min(MaxPacketPayload, payload.Length - offset);
            var frame = new byte[4 + length];
            frame[0] = (byte)length;
            frame[1] = (byte)(length >> 8);
            frame[2] = (byte)(length >> 16);
            frame[3] = sequence++;
            payload.Slice(offset, length).CopyTo(frame.AsMemory(4));
            await stream.WriteAsync(frame, ct).ConfigureAwait(false);
            offset += length;
            // A payload that fills its last packet exactly is closed by an empty packet.
            if (length < MaxPacketPayload)
            {
                break;
            }
        }

        await stream.FlushAsync(ct).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => stream.DisposeAsync();

    private async ValueTask<int> ReadHeaderAsync(CancellationToken ct)
    {
        await ReadExactlyAsync(header, ct).ConfigureAwait(false);
        if (header[3] != sequence)
        {
            throw new BinlogException(BinlogErrorIds.ProtocolViolation,
                $"The server sent packet sequence id {header[3]} where {sequence} was expected.");
        }

        sequence++;
        return header[0] | header[1] << 8 | header[2] << 16;
    }

    private async ValueTask ReadExactlyAsync(Memory<byte> target, CancellationToken ct)
    {
        try
        {
            await stream.ReadExactlyAsync(target, ct).ConfigureAwait(false);
        }
        catch (EndOfStreamException e)
        {
            throw new BinlogException(BinlogErrorIds.ConnectionLost, "The server closed the connection.", innerException: e);
        }
        catch (IOException e)
        {
            throw new BinlogException(BinlogErrorIds.ConnectionLost, $"The connection to the server failed: {e.Message}", innerException: e);
        }
    }
}
