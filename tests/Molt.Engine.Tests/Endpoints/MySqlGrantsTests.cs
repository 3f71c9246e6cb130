using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Endpoints.MySql;

namespace Molt.Engine.Tests.Endpoints;

public sealed class MySqlGrantsTests
{
    [Fact]
    public void MySql8ReplicationGrantsAreRecognised()
    {
        var grants = MySqlGrants.Parse([
            "GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `molt`@`%`",
            "GRANT BACKUP_ADMIN ON *.* TO `molt`@`%`",
        ]);
        Assert.True(grants.CanReadBinlog);
        Assert.True(grants.CanMonitorBinlog);
        Assert.True(grants.Has("RELOAD"));
        Assert.True(grants.Has("BACKUP_ADMIN"));
        Assert.False(grants.HasAll);
    }

    [Fact]
    public void MariaDbBinlogMonitorCountsAsReplicationClient()
    {
        var grants = MySqlGrants.Parse(["GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `molt`@`%` IDENTIFIED BY PASSWORD '*ABC'"]);
        Assert.True(grants.CanReadBinlog && grants.CanMonitorBinlog);
    }

    [Fact]
    public void SchemaLevelGrantsDoNotCount()
    {
        var grants = MySqlGrants.Parse(["GRANT USAGE ON *.* TO `app`@`%`", "GRANT ALL PRIVILEGES ON `sakila`.* TO `app`@`%`"]);
        Assert.False(grants.HasAll);
        Assert.False(grants.CanReadBinlog);
    }

    [Fact]
    public void AllPrivilegesCoversEverything()
    {
        var grants = MySqlGrants.Parse(["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"]);
        Assert.True(grants.CanReadBinlog && grants.CanMonitorBinlog && grants.Has("RELOAD"));
    }

    [Theory]
    [InlineData("8.0.36", 8, 0)]
    [InlineData("10.11.19-MariaDB-0+deb12u1", 10, 11)]
    [InlineData("5.7.44-log", 5, 7)]
    public void ServerVersionsParse(string text, int major, int minor)
    {
        var version = MySqlPrerequisites.ParseVersion(text);
        Assert.Equal((major, minor), (version.Major, version.Minor));
    }

    [Theory]
    [InlineData("CockroachDB CCL v24.1.3 (x86_64-pc-linux-gnu, built 2024/08/07 18:29:31, go1.22.5 X:nocoverageredesign)", 24, 1)]
    [InlineData("CockroachDB OSS v23.2.0 (x86_64-unknown-linux-gnu, built 2024/01/16)", 23, 2)]
    public void CockroachVersionsParse(string text, int major, int minor)
    {
        var version = CockroachPrerequisites.ParseVersion(text);
        Assert.NotNull(version);
        Assert.Equal((major, minor), (version.Major, version.Minor));
    }
}
