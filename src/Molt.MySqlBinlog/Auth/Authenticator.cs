using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Auth;

/// <summary>
/// Drives the authentication exchange after the handshake response: auth switch requests, caching_sha2_password's
/// fast and full authentication, and the final OK or ERR.
/// </summary>
internal sealed class Authenticator
{
    private const byte MoreData = 0x01;
    private const byte AuthSwitch = 0xFE;

    private readonly PacketChannel channel;
    private readonly BinlogConnectionOptions options;
    private readonly bool overTls;

    public Authenticator(PacketChannel channel, BinlogConnectionOptions options, bool overTls)
    {
        this.channel = channel;
        this.options = options;
        this.overTls = overTls;
    }

    /// <summary>The first response for the server's default plugin; an unknown one gets the native scramble and waits for a switch.</summary>
    public static (string Plugin, byte[] Response) InitialResponse(string serverPlugin, byte[] nonce, string password) =>
        serverPlugin == CachingSha2Password.PluginName
            ? (serverPlugin, CachingSha2Password.Scramble(password, nonce))
            : (NativePassword.PluginName, NativePassword.Scramble(password, nonce));

    public async Task CompleteAsync(string plugin, byte[] nonce, CancellationToken ct)
    {
        var awaitingPublicKey = false;
        while (true)
        {
            var packet = await channel.ReadPacketAsync(ct).ConfigureAwait(false);
            if (packet.Length == 0)
            {
                throw new BinlogException(BinlogErrorIds.ProtocolViolation, "The server sent an empty packet during authentication.");
            }

            switch (packet[0])
            {
                case ServerPackets.Ok:
                    return;
                case ServerPackets.Error:
                    var error = ServerPackets.ParseError(packet, $"authenticate as '{options.User}'");
                    throw new BinlogException(BinlogErrorIds.AuthenticationFailed, error.Message,
                        "Check the user name, the password and that the user may connect from this host.", error);
                case AuthSwitch:
                    (plugin, nonce) = ParseSwitch(packet);
                    await SendAsync(Respond(plugin, nonce), ct).ConfigureAwait(false);
                    break;
                case MoreData when plugin == CachingSha2Password.PluginName:
                    if (awaitingPublicKey)
                    {
                        var pem = System.Text.Encoding.ASCII.GetString(packet, 1, packet.Length - 1);
                        await SendAsync(CachingSha2Password.Encrypt(options.Password, nonce, pem), ct).ConfigureAwait(false);
                        awaitingPublicKey = false;
                    }
                    else if (packet.Length == 2 && packet[1] == CachingSha2Password.PerformFullAuthentication)
                    {
                        awaitingPublicKey = await SendFullAuthenticationAsync(nonce, ct).ConfigureAwait(false);
                    }
                    else if (!(packet.Length == 2 && packet[1] == CachingSha2Password.FastAuthSuccess))
                    {
                        throw new BinlogException(BinlogErrorIds.ProtocolViolation, "caching_sha2_password: unexpected data from the server.");
                    }

                    break;
                default:
                    throw new BinlogException(BinlogErrorIds.ProtocolViolation,
                        $"Authentication with {plugin}: unexpected packet 0x{packet[0]:X2} from the server.");
            }
        }
    }

    internal static (string Plugin, byte[] Nonce) ParseSwitch(ReadOnlySpan<byte> packet)
    {
        var reader = new PayloadReader(packet);
        reader.Skip(1);
        var plugin = reader.ReadNullTerminatedString();
        var data = reader.ReadRest();
        return (plugin, (data.Length > 0 && data[^1] == 0 ? data[..^1] : data).ToArray());
    }

    private byte[] Respond(string plugin, byte[] nonce) => plugin switch
    {
        NativePassword.PluginName => NativePassword.Scramble(options.Password, nonce),
        CachingSha2Password.PluginName => CachingSha2Password.Scramble(options.Password, nonce),
        _ => throw new BinlogException(BinlogErrorIds.UnsupportedAuthentication,
            $"The server asks for the authentication plugin '{plugin}', which this client does not support.",
            "Give the replication user mysql_native_password or caching_sha2_password."),
    };

    /// <summary>Sends the password in the form the channel allows; true when the server's public key was asked for.</summary>
    private async Task<bool> SendFullAuthenticationAsync(byte[] nonce, CancellationToken ct)
    {
        if (overTls)
        {
            await SendAsync(CachingSha2Password.Cleartext(options.Password), ct).ConfigureAwait(false);
            return false;
        }

        if (options.ServerRsaPublicKeyPem is { } pem)
        {
            await SendAsync(CachingSha2Password.Encrypt(options.Password, nonce, pem), ct).ConfigureAwait(false);
            return false;
        }

        if (!options.AllowPublicKeyRetrieval)
        {
            throw new BinlogException(BinlogErrorIds.AuthenticationFailed,
                "caching_sha2_password needs full authentication, which without TLS needs the server's RSA public key.",
                "Connect with TLS, give the server's public key, or allow public key retrieval.");
        }

        await SendAsync([CachingSha2Password.RequestPublicKey], ct).ConfigureAwait(false);
        return true;
    }

    private ValueTask SendAsync(byte[] payload, CancellationToken ct) => channel.WritePacketAsync(payload, ct);
}
