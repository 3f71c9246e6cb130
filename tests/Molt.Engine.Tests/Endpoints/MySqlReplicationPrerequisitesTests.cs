using Molt.Engine.Checks;
using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Sessions;
using Molt.Testing;

namespace Molt.Engine.Tests.Endpoints;

/// <summary>Test-MoltConnection -For Replication against real MariaDB servers set up right and wrong.</summary>
public sealed class MySqlReplicationPrerequisitesTests
{
    private const string Password = "Repl-pw-1";

    [Fact]
    public async Task A_mariadb_set_up_for_replication_with_a_replication_user_passes_every_check_without_a_warning()
    {
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            ExtraSettings = new Dictionary<string, string> { ["binlog-row-metadata"] = "FULL", ["binlog-expire-logs-seconds"] = "864000" },
        });
        await server.CreateUserAsync("repl", Password, "SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.*");

        var checks = await CheckAsync(server);

        Assert.Equal(
            ["Connection", "ServerVersion", "ConsistentSnapshot", "BinaryLog", "BinlogFormat", "BinlogRowImage", "BinlogRowMetadata", "GtidMode",
                "ReplicationGrants", "BinlogRetention", "ServerId"],
            checks.Select(c => c.Check));
        Assert.All(checks, c => Assert.True(c.Passed && !c.IsWarning && c.Remedy is null, $"{c.Check}: {c.Detail}"));
        Assert.Equal("binlog_expire_logs_seconds = 864000", checks.Single(c => c.Check == "BinlogRetention").Detail);
        Assert.Equal("REPLICATION SLAVE: yes, BINLOG MONITOR: yes", checks.Single(c => c.Check == "ReplicationGrants").Detail);
    }

    [Fact]
    public async Task A_mariadb_set_up_wrong_fails_what_breaks_replication_and_warns_of_what_costs_each_with_a_remedy()
    {
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            BinaryLog = false, BinlogFormat = "STATEMENT", BinlogRowImage = "MINIMAL", GtidStrictMode = false,
            ExtraSettings = new Dictionary<string, string>
            {
                ["binlog-row-metadata"] = "MINIMAL", ["binlog-expire-logs-seconds"] = "3600",
            },
        });
        await server.CreateUserAsync("reader", Password, "SELECT ON *.*");

        var checks = (await CheckAsync(server, "reader")).ToDictionary(c => c.Check);

        Assert.Equal(["BinaryLog", "BinlogFormat", "ReplicationGrants"], checks.Values.Where(c => !c.Passed).Select(c => c.Check).Order());
        Assert.Equal(["BinlogRetention", "BinlogRowImage", "BinlogRowMetadata", "GtidMode"], checks.Values.Where(c => c.IsWarning).Select(c => c.Check).Order());
        Assert.All(checks.Values.Where(c => !c.Passed || c.IsWarning), c => Assert.False(string.IsNullOrWhiteSpace(c.Remedy), c.Check));

        Assert.Equal("log_bin = OFF", checks["BinaryLog"].Detail);
        Assert.Contains("log_bin = mysql-bin", checks["BinaryLog"].Remedy, StringComparison.Ordinal);
        Assert.Contains("SET GLOBAL binlog_format = 'ROW'", checks["BinlogFormat"].Remedy, StringComparison.Ordinal);
        Assert.Equal("GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO <user>;", checks["ReplicationGrants"].Remedy);
        Assert.Contains("tables without a primary key are refused", checks["BinlogRowImage"].Detail, StringComparison.Ordinal);
        Assert.Contains("binlog_row_image = FULL", checks["BinlogRowImage"].Remedy, StringComparison.Ordinal);
        Assert.StartsWith("binlog_row_metadata = MINIMAL: column names, signedness", checks["BinlogRowMetadata"].Detail, StringComparison.Ordinal);
        Assert.Contains("SET GLOBAL gtid_strict_mode = ON", checks["GtidMode"].Remedy, StringComparison.Ordinal);
        Assert.StartsWith("binlog_expire_logs_seconds = 3600: binlogs expire after 1 h", checks["BinlogRetention"].Detail, StringComparison.Ordinal);
        Assert.Contains("SET GLOBAL binlog_expire_logs_seconds = 604800", checks["BinlogRetention"].Remedy, StringComparison.Ordinal);
    }

    /// <summary>
    /// MySQL settings no MariaDB can take (MariaDB raises server_id 0 to 1 and has no gtid_mode), checked from the
    /// variables MySQL 8 reports; no MySQL server is served here.
    /// </summary>
    [Fact]
    public void A_mysql_source_with_server_id_0_gtid_mode_off_and_two_days_of_binlog_fails_and_warns_with_remedies()
    {
        var variables = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["log_bin"] = "ON", ["binlog_format"] = "ROW", ["binlog_row_image"] = "FULL", ["binlog_row_metadata"] = "FULL", ["gtid_mode"] = "OFF",
            ["enforce_gtid_consistency"] = "OFF", ["server_id"] = "0", ["binlog_expire_logs_seconds"] = "0", ["expire_logs_days"] = "2",
        };
        var grants = MySqlGrants.Parse(["GRANT SELECT, REPLICATION SLAVE ON *.* TO `app`@`%`"]);
        var address = EndpointAddress.Parse("mysql://app@db1:3306/shop");

        var checks = MySqlBinlogPrerequisites.Check(address, EndpointRole.Source, isMariaDb: false, new Version(8, 0, 36), variables, grants)
            .ToDictionary(c => c.Check);

        Assert.Equal(["GtidMode", "ReplicationGrants", "ServerId"], checks.Values.Where(c => !c.Passed).Select(c => c.Check).Order());
        Assert.Equal(["BinlogRetention"], checks.Values.Where(c => c.IsWarning).Select(c => c.Check));
        Assert.Equal("gtid_mode = OFF, enforce_gtid_consistency = OFF", checks["GtidMode"].Detail);
        Assert.Contains("OFF_PERMISSIVE and ON_PERMISSIVE", checks["GtidMode"].Remedy, StringComparison.Ordinal);
        Assert.Equal("GRANT REPLICATION CLIENT ON *.* TO <user>;", checks["ReplicationGrants"].Remedy);
        Assert.Equal("server_id = 0", checks["ServerId"].Detail);
        Assert.Contains("server_id = 1", checks["ServerId"].Remedy, StringComparison.Ordinal);
        Assert.StartsWith("expire_logs_days = 2: binlogs expire after 48 h", checks["BinlogRetention"].Detail, StringComparison.Ordinal);
        Assert.Contains("binlog_expire_logs_seconds = 604800", checks["BinlogRetention"].Remedy, StringComparison.Ordinal);
    }

    private static async Task<IReadOnlyList<PrerequisiteCheck>> CheckAsync(MariaDbServer server, string user = "repl")
    {
        var address = EndpointAddress.Parse(server.ConnectionUri(user: user, password: Password));
        var report = await DatabaseRegistry.CheckPrerequisitesAsync(address, EndpointRole.Source, MigrationFlow.Replication, CancellationToken.None);
        Assert.Equal(EndpointKind.MariaDb, report.Server.Kind);
        return report.Checks;
    }
}
