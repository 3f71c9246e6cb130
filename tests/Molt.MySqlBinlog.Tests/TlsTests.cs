using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Molt.MySqlBinlog.Events;
using Molt.MySqlBinlog.Protocol;
using Molt.Testing;

namespace Molt.MySqlBinlog.Tests;

public sealed class TlsTests
{
    [Fact]
    public async Task A_replication_user_that_requires_ssl_streams_over_tls_from_a_real_mariadb()
    {
        var folder = Directory.CreateTempSubdirectory("molt-binlog-tls");
        try
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
            var certPath = Path.Combine(folder.FullName, "cert.pem");
            var keyPath = Path.Combine(folder.FullName, "key.pem");
            await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                // mariadbd may run as another user: it must be able to read the key.
                File.SetUnixFileMode(folder.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                    UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }

            await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions
            {
                ExtraSettings = new Dictionary<string, string> { ["ssl-cert"] = certPath, ["ssl-key"] = keyPath },
            });
            await server.CreateDatabaseAsync("shop");
            await server.CreateUserAsync("repl", "tls-only-pw", "REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.*");
            await server.ExecuteAsync("", "ALTER USER 'repl'@'%' REQUIRE SSL");
            var thumbprint = certificate.Thumbprint;
            var connection = new BinlogConnectionOptions
            {
                Host = server.Host, Port = server.Port, User = "repl", Password = "tls-only-pw", TlsMode = BinlogTlsMode.Required,
                ServerCertificateValidation = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == thumbprint,
            };
            var start = await Live.GtidPositionAsync(server);
            await Live.ExecuteAsync(server, "shop", "CREATE TABLE `secure` (`id` INT PRIMARY KEY)", "INSERT INTO `secure` VALUES (7)");

            await using (var direct = await ProtocolConnection.OpenAsync(connection, default))
            {
                Assert.True(direct.IsTls);
                Assert.NotEmpty((await direct.QueryAsync("SHOW SESSION STATUS LIKE 'Ssl_cipher'", default)).Rows[0][1]!);
            }

            var events = new List<BinlogEvent>();
            await using var client = new BinlogClient(new BinlogClientOptions { Connection = connection, StopAtEnd = true });
            await foreach (var e in client.StreamAsync(BinlogStart.AtMariaDbGtid(start)))
            {
                events.Add(e);
            }

            Assert.Equal(7L, events.OfType<RowsEvent>().Single().Rows[0].After![0]);
            var plain = new BinlogConnectionOptions { Host = server.Host, Port = server.Port, User = "repl", Password = "tls-only-pw" };
            var refused = await Assert.ThrowsAsync<BinlogException>(() => ProtocolConnection.OpenAsync(plain, default));
            Assert.Equal(BinlogErrorIds.AuthenticationFailed, refused.ErrorId);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
