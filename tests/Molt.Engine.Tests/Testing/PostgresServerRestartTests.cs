using Molt.Testing;
using Npgsql;

namespace Molt.Engine.Tests.Testing;

/// <summary>A restarted test server: the same port, data, slots and settings, a new postmaster, the old sessions gone.</summary>
public sealed class PostgresServerRestartTests
{
    [Fact]
    public async Task A_restarted_server_keeps_its_port_data_slots_and_settings_and_ends_the_old_sessions()
    {
        await using var server = await PostgresServer.StartAsync(new PostgresServerOptions
        {
            ExtraSettings = new Dictionary<string, string> { ["wal_sender_timeout"] = "7s" },
        });
        await server.ExecuteAsync("postgres", """
            CREATE TABLE kept (id int PRIMARY KEY);
            INSERT INTO kept SELECT generate_series(1, 100);
            """);
        await server.ExecuteAsync("postgres", "SELECT pg_create_logical_replication_slot('kept_slot', 'pgoutput')");
        var (port, pid) = (server.Port, server.ProcessId);
        await using var old = new NpgsqlConnection(server.ConnectionString());
        await old.OpenAsync();

        await server.RestartAsync();

        Assert.Equal(port, server.Port);
        Assert.NotEqual(pid, server.ProcessId);
        Assert.False(Directory.Exists($"/proc/{pid}") && File.ReadAllText($"/proc/{pid}/stat").Contains("postgres", StringComparison.Ordinal),
            "The old postmaster is still running.");
        await using (var command = new NpgsqlCommand("SELECT 1", old))
        {
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => command.ExecuteScalarAsync());
        }

        Assert.Equal(100L, await server.ScalarAsync<long>("postgres", "SELECT count(*) FROM kept"));
        Assert.Equal("kept_slot", await server.ScalarAsync<string>("postgres", "SELECT slot_name::text FROM pg_replication_slots"));
        Assert.Equal("7s", await server.ScalarAsync<string>("postgres", "SHOW wal_sender_timeout"));
        Assert.Equal("logical", await server.ScalarAsync<string>("postgres", "SHOW wal_level"));

        await server.RestartAsync();
        Assert.Equal(100L, await server.ScalarAsync<long>("postgres", "SELECT count(*) FROM kept"));
    }
}
