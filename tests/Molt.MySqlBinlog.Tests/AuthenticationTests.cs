using System.Diagnostics.CodeAnalysis;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Tests;

/// <summary>caching_sha2_password and auth switches against the documented exchanges, on a loopback socket.</summary>
[Trait("Source", "documentation")]
public sealed class AuthenticationTests
{
    private const string Password = "s3cret-ü";

    [Fact]
    public async Task Caching_sha2_fast_authentication_sends_the_documented_sha256_scramble()
    {
        await using var server = new FakeServer();
        var connecting = ProtocolConnection.OpenAsync(server.Options(Password), default);
        await server.GreetAsync("caching_sha2_password");

        var (user, response, plugin) = await server.ReadHandshakeResponseAsync();
        await server.SendAsync(1, 3);
        await server.SendOkAsync();

        await using var connection = await connecting;
        Assert.Equal("repl", user);
        Assert.Equal("caching_sha2_password", plugin);
        Assert.Equal(ExpectedSha2Scramble(Password, FakeServer.Nonce), response);
        Assert.Equal(77u, connection.ConnectionId);
        Assert.False(connection.IsMariaDb);
    }

    [Fact]
    public async Task Caching_sha2_full_authentication_without_tls_asks_for_the_rsa_key_and_sends_the_password_encrypted_with_oaep()
    {
        using var rsa = RSA.Create(2048);
        await using var server = new FakeServer();
        var connecting = ProtocolConnection.OpenAsync(server.Options(Password, allowKeyRetrieval: true), default);
        await server.GreetAsync("caching_sha2_password");
        await server.ReadHandshakeResponseAsync();

        await server.SendAsync(1, 4);
        Assert.Equal([2], await server.ReadAsync());
        await server.SendAsync([1, .. Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem())]);
        var encrypted = await server.ReadAsync();
        await server.SendOkAsync();

        await using var connection = await connecting;
        Assert.Equal(PasswordXorNonce(Password), rsa.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA1));
    }

    [Fact]
    public async Task Caching_sha2_full_authentication_with_a_configured_rsa_key_does_not_ask_the_server_for_it()
    {
        using var rsa = RSA.Create(2048);
        await using var server = new FakeServer();
        var connecting = ProtocolConnection.OpenAsync(server.Options(Password, key: rsa.ExportSubjectPublicKeyInfoPem()), default);
        await server.GreetAsync("caching_sha2_password");
        await server.ReadHandshakeResponseAsync();

        await server.SendAsync(1, 4);
        var encrypted = await server.ReadAsync();
        await server.SendOkAsync();

        await using var connection = await connecting;
        Assert.Equal(PasswordXorNonce(Password), rsa.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA1));
    }

    [Fact]
    public async Task Caching_sha2_full_authentication_without_tls_key_or_key_retrieval_is_refused_with_a_remedy()
    {
        await using var server = new FakeServer();
        var connecting = ProtocolConnection.OpenAsync(server.Options(Password), default);
        await server.GreetAsync("caching_sha2_password");
        await server.ReadHandshakeResponseAsync();

        await server.SendAsync(1, 4);

        var error = await Assert.ThrowsAsync<BinlogException>(() => connecting);
        Assert.Equal(BinlogErrorIds.AuthenticationFailed, error.ErrorId);
        Assert.Contains("TLS", error.Remedy);
        Assert.DoesNotContain(Password, error.ToString());
    }

    [Fact]
    public async Task Caching_sha2_full_authentication_over_tls_sends_the_cleartext_password()
    {
        using var certificate = SelfSignedCertificate();
        await using var server = new FakeServer { TrustedThumbprint = certificate.Thumbprint };
        var connecting = ProtocolConnection.OpenAsync(server.Options(Password, BinlogTlsMode.Required), default);
        await server.GreetAsync("caching_sha2_password", offerTls: true);
        var sslRequest = await server.ReadAsync();
        Assert.Equal(32, sslRequest.Length);
        Assert.NotEqual(0u, BitConverter.ToUInt32(sslRequest) & (uint)Capabilities.Ssl);
        var tls = new SslStream(server.RawStream);
        await tls.AuthenticateAsServerAsync(certificate);
        server.UseTls(tls);
        await server.ReadHandshakeResponseAsync();

        await server.SendAsync(1, 4);
        var cleartext = await server.ReadAsync();
        await server.SendOkAsync();

        await using var connection = await connecting;
        Assert.True(connection.IsTls);
        Assert.Equal([.. Encoding.UTF8.GetBytes(Password), 0], cleartext);
    }

    [Fact]
    public async Task Tls_required_against_a_server_without_tls_is_refused_before_authentication()
    {
        await using var server = new FakeServer();
        var connecting = ProtocolConnection.OpenAsync(server.Options(Password, BinlogTlsMode.Required), default);
        await server.GreetAsync("mysql_native_password");

        var error = await Assert.ThrowsAsync<BinlogException>(() => connecting);
        Assert.Equal(BinlogErrorIds.TlsUnavailable, error.ErrorId);
    }

    [Fact]
    [SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms", Justification = "mysql_native_password is defined with SHA1.")]
    public async Task An_auth_switch_request_is_answered_with_the_new_plugins_scramble_of_the_new_nonce()
    {
        var newNonce = "ABCDEFGHIJKLMNOPQRST"u8.ToArray();
        await using var server = new FakeServer();
        var connecting = ProtocolConnection.OpenAsync(server.Options(Password), default);
        await server.GreetAsync("caching_sha2_password");
        await server.ReadHandshakeResponseAsync();

        await server.SendAsync([0xFE, .. "mysql_native_password"u8, 0, .. newNonce, 0]);
        var response = await server.ReadAsync();
        await server.SendOkAsync();

        await using var connection = await connecting;
        var stage1 = SHA1.HashData(Encoding.UTF8.GetBytes(Password));
        var mix = SHA1.HashData([.. newNonce, .. SHA1.HashData(stage1)]);
        Assert.Equal(stage1.Zip(mix, (a, b) => (byte)(a ^ b)).ToArray(), response);
    }

    [Fact]
    public async Task An_error_packet_during_authentication_surfaces_the_servers_code_and_message()
    {
        await using var server = new FakeServer();
        var connecting = ProtocolConnection.OpenAsync(server.Options(Password), default);
        await server.GreetAsync("mysql_native_password");
        await server.ReadHandshakeResponseAsync();

        await server.SendAsync([0xFF, 0x15, 0x04, .. "#28000"u8, .. "Access denied for user 'repl'"u8]);

        var error = await Assert.ThrowsAsync<BinlogException>(() => connecting);
        Assert.Equal(BinlogErrorIds.AuthenticationFailed, error.ErrorId);
        var server1045 = Assert.IsType<BinlogServerException>(error.InnerException);
        Assert.Equal(1045, server1045.ServerErrorCode);
        Assert.Equal("28000", server1045.SqlState);
        Assert.Contains("Access denied for user 'repl'", error.Message);
    }

    private static byte[] ExpectedSha2Scramble(string password, byte[] nonce)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        var mix = SHA256.HashData([.. SHA256.HashData(SHA256.HashData(hash)), .. nonce]);
        return hash.Zip(mix, (a, b) => (byte)(a ^ b)).ToArray();
    }

    private static byte[] PasswordXorNonce(string password)
    {
        byte[] plain = [.. Encoding.UTF8.GetBytes(password), 0];
        return plain.Select((b, i) => (byte)(b ^ FakeServer.Nonce[i % FakeServer.Nonce.Length])).ToArray();
    }

    private static X509Certificate2 SelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}

public sealed class PacketFramingTests
{
    [Theory]
    [InlineData(10, new[] { 10 })]
    [InlineData(0xFFFFFF, new[] { 0xFFFFFF, 0 })]
    [InlineData(0xFFFFFF + 10, new[] { 0xFFFFFF, 10 })]
    [InlineData(2 * 0xFFFFFF + 1, new[] { 0xFFFFFF, 0xFFFFFF, 1 })]
    public async Task A_payload_is_split_into_packets_of_at_most_16_MB_with_rising_sequence_ids_and_joined_again(int length, int[] packets)
    {
        var payload = new byte[length];
        Random.Shared.NextBytes(payload);
        using var wire = new MemoryStream();
        await new PacketChannel(wire).WritePacketAsync(payload, default);

        var offset = 0;
        var bytes = wire.ToArray();
        for (var i = 0; i < packets.Length; i++)
        {
            Assert.Equal(packets[i], bytes[offset] | bytes[offset + 1] << 8 | bytes[offset + 2] << 16);
            Assert.Equal(i, bytes[offset + 3]);
            offset += 4 + packets[i];
        }

        Assert.Equal(bytes.Length, offset);
        wire.Position = 0;
        Assert.True((await new PacketChannel(wire).ReadPacketAsync(default)).AsSpan().SequenceEqual(payload));
    }

    [Fact]
    public async Task A_packet_out_of_sequence_is_a_protocol_violation()
    {
        using var wire = new MemoryStream([1, 0, 0, 5, 0]);

        var error = await Assert.ThrowsAsync<BinlogException>(async () => await new PacketChannel(wire).ReadPacketAsync(default));

        Assert.Equal(BinlogErrorIds.ProtocolViolation, error.ErrorId);
    }

    [Fact]
    public async Task A_connection_closed_mid_packet_is_reported_as_lost()
    {
        using var wire = new MemoryStream([10, 0, 0, 0, 1, 2]);

        var error = await Assert.ThrowsAsync<BinlogException>(async () => await new PacketChannel(wire).ReadPacketAsync(default));

        Assert.Equal(BinlogErrorIds.ConnectionLost, error.ErrorId);
    }
}

public sealed class ClientOptionsTests
{
    [Theory]
    [InlineData(0, null)]
    [InlineData(5, 5)]
    [InlineData(5, 2)]
    public void A_heartbeat_period_that_is_not_shorter_than_the_dead_connection_timeout_is_refused_before_connecting(int heartbeatSeconds, int? deadSeconds)
    {
        var options = new BinlogClientOptions
        {
            Connection = new BinlogConnectionOptions { Host = "127.0.0.1", Port = 1, User = "repl" },
            HeartbeatPeriod = TimeSpan.FromSeconds(heartbeatSeconds),
            DeadConnectionTimeout = deadSeconds is { } d ? TimeSpan.FromSeconds(d) : null,
        };

        Assert.Throws<ArgumentException>(() => new BinlogClient(options));
    }
}
