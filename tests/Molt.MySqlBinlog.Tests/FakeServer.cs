using System.Net;
using System.Net.Sockets;
using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Tests;

/// <summary>
/// The server side of the handshake and authentication for the byte-level tests of MySQL-only plugins: it speaks the
/// documented layouts on a loopback socket, one connection.
/// </summary>
internal sealed class FakeServer : IAsyncDisposable
{
    public static readonly byte[] Nonce = "abcdefghijklmnopqrst"u8.ToArray();

    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private TcpClient? client;

    public FakeServer() => listener.Start();

    /// <summary>The one certificate a TLS test's client accepts.</summary>
    public string? TrustedThumbprint { get; init; }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    public PacketChannel Channel { get; private set; } = null!;

    public BinlogConnectionOptions Options(string password, BinlogTlsMode tls = BinlogTlsMode.Disabled, bool allowKeyRetrieval = false, string? key = null) => new()
    {
        Host = "127.0.0.1", Port = Port, User = "repl", Password = password, TlsMode = tls, AllowPublicKeyRetrieval = allowKeyRetrieval,
        ServerRsaPublicKeyPem = key,
        ServerCertificateValidation = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == TrustedThumbprint,
    };

    /// <summary>Accepts the client and sends a protocol-10 greeting offering <paramref name="plugin"/>.</summary>
    public async Task GreetAsync(string plugin, bool offerTls = false)
    {
        client = await listener.AcceptTcpClientAsync();
        Channel = new PacketChannel(client.GetStream());
        var capabilities = Capabilities.LongPassword | Capabilities.Protocol41 | Capabilities.Transactions | Capabilities.SecureConnection |
                           Capabilities.PluginAuth | Capabilities.PluginAuthLengthEncodedData | (offerTls ? Capabilities.Ssl : 0);
        var greeting = new PayloadWriter()
            .WriteByte(10).WriteNullTerminated("8.4.0").WriteUInt32(77)
            .WriteBytes(Nonce.AsSpan(0, 8)).WriteByte(0)
            .WriteUInt16((ushort)capabilities).WriteByte(255).WriteUInt16(2).WriteUInt16((ushort)((uint)capabilities >> 16))
            .WriteByte(21).WriteZeros(10)
            .WriteBytes(Nonce.AsSpan(8)).WriteByte(0)
            .WriteNullTerminated(plugin);
        await Channel.WritePacketAsync(greeting.Written, default);
    }

    /// <summary>Reads the handshake response and returns the user, the auth response and the plugin named.</summary>
    public async Task<(string User, byte[] Response, string Plugin)> ReadHandshakeResponseAsync()
    {
        var packet = await Channel.ReadPacketAsync(default);
        return ParseResponse(packet);
    }

    public Task<byte[]> ReadAsync() => Channel.ReadPacketAsync(default).AsTask();

    public Task SendAsync(params byte[] payload) => Channel.WritePacketAsync(payload, default).AsTask();

    public Task SendOkAsync() => SendAsync(0, 0, 0, 2, 0, 0, 0);

    public void UseTls(Stream encrypted) => Channel.ReplaceStream(encrypted);

    public Stream RawStream => client!.GetStream();

    public async ValueTask DisposeAsync()
    {
        client?.Dispose();
        listener.Stop();
        await Task.CompletedTask;
    }

    private static (string, byte[], string) ParseResponse(byte[] packet)
    {
        var reader = new PayloadReader(packet);
        reader.Skip(32);
        var user = reader.ReadNullTerminatedString();
        var response = reader.ReadLengthEncodedBytes().ToArray();
        var plugin = reader.ReadNullTerminatedString();
        return (user, response, plugin);
    }
}
