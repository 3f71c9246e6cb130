using System.Net.Security;
using System.Net.Sockets;
using Molt.MySqlBinlog.Auth;

namespace Molt.MySqlBinlog.Protocol;

/// <summary>One authenticated client connection: handshake, optional TLS, authentication, text queries and raw commands.</summary>
internal sealed class ProtocolConnection : IAsyncDisposable
{
    private const uint MaxPacketSize = 1 << 30;
    private const byte Utf8Mb4GeneralCi = 45;
    private const byte ComQuery = 0x03;

    private readonly TcpClient tcp;

    private ProtocolConnection(TcpClient tcp, PacketChannel channel, InitialHandshake handshake, bool tls)
    {
        this.tcp = tcp;
        Channel = channel;
        Handshake = handshake;
        IsTls = tls;
    }

    public PacketChannel Channel { get; }

    public InitialHandshake Handshake { get; }

    public bool IsTls { get; }

    public bool IsMariaDb => Handshake.IsMariaDb;

    public uint ConnectionId => Handshake.ConnectionId;

    public static async Task<ProtocolConnection> OpenAsync(BinlogConnectionOptions options, CancellationToken ct)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(options.ConnectTimeout);
                try
                {
                    await tcp.ConnectAsync(options.Host, options.Port, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new BinlogException(BinlogErrorIds.ConnectionTimedOut, $"Connecting to {options.Host}:{options.Port} timed out after {options.ConnectTimeout}.");
                }
                catch (SocketException e)
                {
                    throw new BinlogException(BinlogErrorIds.ConnectionLost, $"Cannot connect to {options.Host}:{options.Port}: {e.Message}", innerException: e);
                }
            }

            var channel = new PacketChannel(tcp.GetStream());
            var handshake = InitialHandshake.Parse(await channel.ReadPacketAsync(ct).ConfigureAwait(false));
            var tls = await NegotiateTlsAsync(channel, handshake, options, ct).ConfigureAwait(false);
            var (plugin, response) = Authenticator.InitialResponse(handshake.AuthPluginName, handshake.AuthPluginData, options.Password);
            await channel.WritePacketAsync(HandshakeResponse(handshake, options, plugin, response, tls), ct).ConfigureAwait(false);
            await new Authenticator(channel, options, tls).CompleteAsync(plugin, handshake.AuthPluginData, ct).ConfigureAwait(false);
            return new ProtocolConnection(tcp, channel, handshake, tls);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    public async Task<QueryResult> QueryAsync(string sql, CancellationToken ct)
    {
        await SendCommandAsync(new PayloadWriter().WriteByte(ComQuery).WriteString(sql).Written, ct).ConfigureAwait(false);
        var first = await Channel.ReadPacketAsync(ct).ConfigureAwait(false);
        ServerPackets.ThrowIfError(first, Describe(sql));
        if (ServerPackets.IsOk(first))
        {
            return QueryResult.Empty;
        }

        var countReader = new PayloadReader(first);
        var columnCount = countReader.ReadLengthEncodedInt32();
        var columns = new List<string>(columnCount);
        for (var i = 0; i < columnCount; i++)
        {
            columns.Add(ColumnName(await Channel.ReadPacketAsync(ct).ConfigureAwait(false)));
        }

        ExpectEof(await Channel.ReadPacketAsync(ct).ConfigureAwait(false), sql);
        var rows = new List<string?[]>();
        while (true)
        {
            var packet = await Channel.ReadPacketAsync(ct).ConfigureAwait(false);
            ServerPackets.ThrowIfError(packet, Describe(sql));
            if (ServerPackets.IsEof(packet))
            {
                return new QueryResult(columns, rows);
            }

            rows.Add(ParseRow(packet, columnCount));
        }
    }

    public Task ExecuteAsync(string sql, CancellationToken ct) => QueryAsync(sql, ct);

    /// <summary>Sends a command packet as the start of a new exchange.</summary>
    public ValueTask SendCommandAsync(ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        Channel.ResetSequence();
        return Channel.WritePacketAsync(payload, ct);
    }

    public async ValueTask DisposeAsync()
    {
        await Channel.DisposeAsync().ConfigureAwait(false);
        tcp.Dispose();
    }

    private static string Describe(string sql) => sql.Length <= 120 ? sql : sql[..120] + "...";

    private static async Task<bool> NegotiateTlsAsync(PacketChannel channel, InitialHandshake handshake, BinlogConnectionOptions options, CancellationToken ct)
    {
        if (options.TlsMode == BinlogTlsMode.Disabled)
        {
            return false;
        }

        if (!handshake.ServerCapabilities.HasFlag(Capabilities.Ssl))
        {
            return options.TlsMode == BinlogTlsMode.Required
                ? throw new BinlogException(BinlogErrorIds.TlsUnavailable, $"TLS was required but the server at {options.Host}:{options.Port} does not offer it.",
                    "Enable TLS on the server (ssl_cert, ssl_key) or connect without requiring it.")
                : false;
        }

        // SSLRequest: the first 32 bytes of the handshake response, then the TLS handshake.
        var request = new PayloadWriter()
            .WriteUInt32((uint)ClientCapabilities(handshake, tls: true))
            .WriteUInt32(MaxPacketSize)
            .WriteByte(Utf8Mb4GeneralCi)
            .WriteZeros(23);
        await channel.WritePacketAsync(request.Written, ct).ConfigureAwait(false);
        var ssl = new SslStream(channel.Stream, leaveInnerStreamOpen: false, options.ServerCertificateValidation);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = options.Host }, ct).ConfigureAwait(false);
        channel.ReplaceStream(ssl);
        return true;
    }

    private static Capabilities ClientCapabilities(InitialHandshake handshake, bool tls)
    {
        var wanted = Capabilities.LongPassword | Capabilities.LongFlag | Capabilities.Protocol41 | Capabilities.Transactions |
                     Capabilities.SecureConnection | Capabilities.MultiResults | Capabilities.PluginAuth | Capabilities.PluginAuthLengthEncodedData;
        if (tls)
        {
            wanted |= Capabilities.Ssl;
        }

        return wanted & (handshake.ServerCapabilities | Capabilities.LongPassword);
    }

    private static ReadOnlyMemory<byte> HandshakeResponse(InitialHandshake handshake, BinlogConnectionOptions options, string plugin, byte[] response, bool tls)
    {
        var capabilities = ClientCapabilities(handshake, tls);
        var writer = new PayloadWriter()
            .WriteUInt32((uint)capabilities)
            .WriteUInt32(MaxPacketSize)
            .WriteByte(Utf8Mb4GeneralCi)
            .WriteZeros(23)
            .WriteNullTerminated(options.User);
        if (capabilities.HasFlag(Capabilities.PluginAuthLengthEncodedData))
        {
            writer.WriteLengthEncodedBytes(response);
        }
        else
        {
            writer.WriteByte((byte)response.Length).WriteBytes(response);
        }

        if (capabilities.HasFlag(Capabilities.PluginAuth))
        {
            writer.WriteNullTerminated(plugin);
        }

        return writer.Written;
    }

    private static void ExpectEof(ReadOnlySpan<byte> packet, string sql)
    {
        ServerPackets.ThrowIfError(packet, Describe(sql));
        if (!ServerPackets.IsEof(packet))
        {
            throw new BinlogException(BinlogErrorIds.ProtocolViolation, "The server sent no EOF after the column definitions.");
        }
    }

    private static string ColumnName(ReadOnlySpan<byte> definition)
    {
        var reader = new PayloadReader(definition);
        reader.ReadLengthEncodedBytes(); // catalog
        reader.ReadLengthEncodedBytes(); // schema
        reader.ReadLengthEncodedBytes(); // table
        reader.ReadLengthEncodedBytes(); // original table
        return reader.ReadLengthEncodedString();
    }

    private static string?[] ParseRow(ReadOnlySpan<byte> packet, int columnCount)
    {
        var reader = new PayloadReader(packet);
        var row = new string?[columnCount];
        for (var i = 0; i < columnCount; i++)
        {
            var length = reader.ReadLengthEncodedOrNull();
            row[i] = length is { } n ? System.Text.Encoding.UTF8.GetString(reader.ReadBytes(checked((int)n))) : null;
        }

        return row;
    }
}
