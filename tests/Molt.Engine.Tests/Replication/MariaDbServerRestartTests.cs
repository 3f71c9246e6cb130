using Molt.Testing;

namespace Molt.Engine.Tests.Replication;

/// <summary>The fixture the source-restart fault tests stand on: a MariaDB stopped by pid and started again on its own data.</summary>
public sealed class MariaDbServerRestartTests
{
    [Fact]
    public async Task A_restarted_mariadb_is_a_new_process_on_the_same_port_with_its_rows_server_id_and_gtid_history()
    {
        await using var server = await MariaDbServer.StartAsync();
        await server.CreateDatabaseAsync("shop");
        await server.ExecuteAsync("shop", "CREATE TABLE `t` (`id` INT PRIMARY KEY); INSERT INTO `t` VALUES (1), (2), (3)");
        var pid = server.ProcessId;
        var port = server.Port;
        var serverId = await server.ScalarAsync<long>("", "SELECT @@server_id");
        var gtidBefore = await server.ScalarAsync<string>("", "SELECT @@gtid_binlog_pos");
        var fileBefore = await server.ScalarAsync<string>("", "SHOW MASTER STATUS");

        await server.RestartAsync();

        Assert.NotEqual(pid, server.ProcessId);
        Assert.False(Directory.Exists($"/proc/{pid}"));
        Assert.Equal(port, server.Port);
        Assert.Equal(3, await server.ScalarAsync<long>("shop", "SELECT COUNT(*) FROM `t`"));
        Assert.Equal(serverId, await server.ScalarAsync<long>("", "SELECT @@server_id"));
        Assert.Equal(gtidBefore, await server.ScalarAsync<string>("", "SELECT @@gtid_binlog_pos"));
        // A clean restart opens a new binary log file; writes after it continue the GTID sequence.
        Assert.NotEqual(fileBefore, await server.ScalarAsync<string>("", "SHOW MASTER STATUS"));
        await server.ExecuteAsync("shop", "INSERT INTO `t` VALUES (4)");
        var sequenceBefore = long.Parse(gtidBefore!.Split('-')[2], System.Globalization.CultureInfo.InvariantCulture);
        var sequenceAfter = long.Parse((await server.ScalarAsync<string>("", "SELECT @@gtid_binlog_pos"))!.Split('-')[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(sequenceBefore + 1, sequenceAfter);
    }
}
