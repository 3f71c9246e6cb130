using Molt.Testing;
using MySqlConnector;

namespace Molt.MySqlBinlog.Tests;

/// <summary>A MariaDB with ROW binlogs, FULL row image and FULL row metadata, and room for a 20 MB row.</summary>
public sealed class BinlogServerFixture : IAsyncLifetime
{
    public MariaDbServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            BinlogRowImage = "FULL",
            ExtraSettings = new Dictionary<string, string>
            {
                ["binlog-row-metadata"] = "FULL",
                ["max-allowed-packet"] = "64M",
                ["binlog-checksum"] = "CRC32",
            },
        });
        await Server.CreateDatabaseAsync("shop");
    }

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

[CollectionDefinition(Name)]
public sealed class BinlogServerCollection : ICollectionFixture<BinlogServerFixture>
{
    public const string Name = "binlog server";
}

/// <summary>What the live tests share: a client for a server, its current GTID position, and collecting a stream.</summary>
internal static class Live
{
    public static BinlogClientOptions Options(MariaDbServer server, bool stopAtEnd = true, TimeSpan? heartbeat = null, TimeSpan? deadAfter = null) => new()
    {
        Connection = new BinlogConnectionOptions { Host = server.Host, Port = server.Port, User = server.AdminUser, Password = server.AdminPassword },
        StopAtEnd = stopAtEnd,
        HeartbeatPeriod = heartbeat ?? TimeSpan.FromSeconds(5),
        DeadConnectionTimeout = deadAfter,
    };

    public static async Task<string> GtidPositionAsync(MariaDbServer server) =>
        await server.ScalarAsync<string>("", "SELECT @@global.gtid_binlog_pos") ?? "";

    /// <summary>Every event from <paramref name="start"/> to the end of the binlog.</summary>
    public static async Task<List<Events.BinlogEvent>> ReadToEndAsync(MariaDbServer server, BinlogStart start, Func<Events.TableMapEvent, IReadOnlyList<bool>?>? signedness = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var options = Options(server);
        await using var client = new BinlogClient(new BinlogClientOptions
        {
            Connection = options.Connection, StopAtEnd = true, SignednessResolver = signedness,
        });
        var events = new List<Events.BinlogEvent>();
        await foreach (var e in client.StreamAsync(start, timeout.Token))
        {
            events.Add(e);
        }

        return events;
    }

    public static async Task ExecuteAsync(MariaDbServer server, string database, params string[] statements)
    {
        var builder = new MySqlConnectionStringBuilder(server.ConnectionString(database)) { AllowUserVariables = true, Pooling = false };
        await using var connection = new MySqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        foreach (var sql in statements)
        {
            await using var command = new MySqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}
