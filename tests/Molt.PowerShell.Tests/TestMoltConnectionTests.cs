using System.Management.Automation;
using System.Net.Sockets;
using System.Runtime.Loader;
using Molt.Testing;

namespace Molt.PowerShell.Tests;

[Collection(ServerCollection.Name)]
public sealed class TestMoltConnectionTests(ServerFixture servers)
{
    private const string CheckScript = "Test-MoltConnection -Source $args[0] -SourceCredential $args[1] -For $args[2]";

    [Fact]
    public void PostgresSourcePassesEveryReplicationCheck()
    {
        using var session = new MoltSession();
        var result = session.Invoke(CheckScript, Uri(servers.Postgres), AdminCredential(servers.Postgres), "Replication");
        Assert.Empty(result.Errors);
        var checks = Checks(result).ToList();
        Assert.Equal(["Connection", "ServerVersion", "SnapshotExport", "WalLevel", "ReplicationPrivilege", "ReplicationSlots", "WalSenders", "PublicationPrivilege"],
            checks.Select(c => c.Check));
        Assert.All(checks, c => Assert.True(c.Passed, c.ToString()));
        Assert.All(checks, c => Assert.Equal("PostgreSQL", c.Server));
        Assert.StartsWith("15.", checks[0].Version);
    }

    [Fact]
    public void PostgresTargetCanHoldTheStateSchema()
    {
        using var session = new MoltSession();
        var result = session.Invoke("Test-MoltConnection -Source $args[0] -SourceCredential $args[1] -Target $args[2] -TargetCredential $args[3]",
            Uri(servers.MariaDb), AdminCredential(servers.MariaDb), Uri(servers.Postgres), AdminCredential(servers.Postgres));
        Assert.Empty(result.Errors);
        var checks = Checks(result).ToList();
        var stateSchema = Assert.Single(checks, c => c.Check == "StateSchema");
        Assert.True(stateSchema.Passed);
        Assert.Equal("Target", stateSchema.Role);
        Assert.Contains(checks, c => c is { Role: "Source", Server: "MariaDB", Check: "ConsistentSnapshot", Passed: true });
    }

    [Fact]
    public async Task PostgresWithoutLogicalWalAndWithoutReplicationRoleFailsWithRemedies()
    {
        await using var replica = await PostgresServer.StartAsync(new PostgresServerOptions { LogicalReplication = false });
        await replica.CreateRoleAsync("app_reader", "Reader-pw-1");
        using var session = new MoltSession();
        var result = session.Invoke(CheckScript, Uri(replica), MoltSession.Credential("app_reader", "Reader-pw-1"), "Replication");
        Assert.Empty(result.Errors);
        var checks = Checks(result).ToDictionary(c => c.Check);
        Assert.False(checks["WalLevel"].Passed);
        Assert.Equal("wal_level = replica", checks["WalLevel"].Detail);
        Assert.Contains("wal_level = logical", checks["WalLevel"].Remedy);
        Assert.False(checks["ReplicationPrivilege"].Passed);
        Assert.Contains("WITH REPLICATION", checks["ReplicationPrivilege"].Remedy);
        Assert.True(checks["Connection"].Passed);
        Assert.Null(checks["Connection"].Remedy);
    }

    [Fact]
    public void MariaDbSourcePassesEveryReplicationCheck()
    {
        using var session = new MoltSession();
        var result = session.Invoke(CheckScript, Uri(servers.MariaDb), AdminCredential(servers.MariaDb), "Replication");
        Assert.Empty(result.Errors);
        var checks = Checks(result).ToList();
        Assert.Equal(["Connection", "ServerVersion", "ConsistentSnapshot", "BinaryLog", "BinlogFormat", "BinlogRowImage", "GtidMode", "ReplicationGrants"],
            checks.Select(c => c.Check));
        Assert.All(checks, c => Assert.True(c.Passed, c.ToString()));
        Assert.All(checks, c => Assert.Equal("MariaDB", c.Server));
    }

    [Fact]
    public async Task MisconfiguredMariaDbAndAnUnprivilegedUserFailTheRightChecks()
    {
        await using var misconfigured = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            BinlogFormat = "STATEMENT",
            BinlogRowImage = "MINIMAL",
            GtidStrictMode = false,
        });
        await misconfigured.CreateUserAsync("reader", "Reader-pw-1", "SELECT ON *.*");
        using var session = new MoltSession();
        var result = session.Invoke(CheckScript, Uri(misconfigured), MoltSession.Credential("reader", "Reader-pw-1"), "Replication");
        Assert.Empty(result.Errors);
        var failed = Checks(result).Where(c => !c.Passed).ToDictionary(c => c.Check);
        Assert.Equal(["BinlogFormat", "BinlogRowImage", "GtidMode", "ReplicationGrants"], failed.Keys.Order());
        Assert.Equal("binlog_format = STATEMENT", failed["BinlogFormat"].Detail);
        Assert.Contains("GRANT REPLICATION SLAVE, REPLICATION CLIENT", failed["ReplicationGrants"].Remedy);
    }

    [Fact]
    public void WrongPasswordIsAnAuthenticationErrorThatNeverShowsThePassword()
    {
        const string wrong = "Wr0ng-Pa55word!";
        using var session = new MoltSession();
        foreach (var uri in new[] { Uri(servers.Postgres), Uri(servers.MariaDb) })
        {
            var result = session.Invoke("Test-MoltConnection -Source $args[0] -SourceCredential $args[1] -Verbose -Debug", uri,
                MoltSession.Credential(AdminUser(uri), wrong));
            var error = Assert.Single(result.Errors);
            Assert.Equal(ErrorCategory.AuthenticationError, error.CategoryInfo.Category);
            Assert.StartsWith("AuthenticationFailed,", error.FullyQualifiedErrorId);
            Assert.Contains("-SourceCredential", error.ErrorDetails.RecommendedAction);
            Assert.Empty(result.Output);
            Assert.DoesNotContain(wrong, result.AllText());
            Assert.DoesNotContain(wrong, session.Host.Text);
        }
    }

    [Fact]
    public void PasswordInTheUriNeverAppearsInAnyStreamOrLog()
    {
        var log = Path.Combine(Path.GetTempPath(), $"molt-{Guid.NewGuid():N}.jsonl");
        try
        {
            using var session = new MoltSession();
            var password = servers.Postgres.AdminPassword;
            var result = session.Invoke("Test-MoltConnection -Source $args[0] -Target $args[0] -For Failback -Verbose -Debug -LogPath $args[1]",
                servers.Postgres.ConnectionUri(), log);
            Assert.Empty(result.Errors);
            Assert.NotEmpty(result.Verbose);
            Assert.Contains(result.Verbose, v => v.Contains("checks failed", StringComparison.Ordinal));
            Assert.NotEmpty(result.Debug);
            var logText = File.ReadAllText(log);
            Assert.Contains("\"@m\"", logText);
            Assert.DoesNotContain(password, result.AllText());
            Assert.DoesNotContain(password, logText);
            Assert.DoesNotContain(password, session.Host.Text);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public void UnreachableServerIsAConnectionError()
    {
        using var session = new MoltSession();
        var result = session.Invoke("Test-MoltConnection -Source $args[0]", $"postgres://nobody:pw@127.0.0.1:{ClosedPort()}/postgres?sslmode=disable");
        var error = Assert.Single(result.Errors);
        Assert.Equal(ErrorCategory.ConnectionError, error.CategoryInfo.Category);
        Assert.StartsWith("ConnectionFailed,", error.FullyQualifiedErrorId);
        Assert.DoesNotContain("   at ", error.ToString());
    }

    [Fact]
    public void MissingDatabaseIsObjectNotFound()
    {
        using var session = new MoltSession();
        foreach (var uri in new[] { servers.Postgres.ConnectionUri("no_such_db"), servers.MariaDb.ConnectionUri("no_such_db") })
        {
            var result = session.Invoke("Test-MoltConnection -Source $args[0]", uri);
            var error = Assert.Single(result.Errors);
            Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
            Assert.Contains("'no_such_db' does not exist", error.ToString());
        }
    }

    [Fact]
    public void EngineAndItsDependenciesLoadIntoMoltsOwnContext()
    {
        using var session = new MoltSession();
        var result = session.Invoke(CheckScript, Uri(servers.Postgres), AdminCredential(servers.Postgres), "BulkLoad");
        Assert.Empty(result.Errors);

        var molt = Assert.Single(AssemblyLoadContext.All, c => c.Name == "Molt");
        var moltAssemblies = molt.Assemblies.Select(a => a.GetName().Name).ToList();
        Assert.Contains("Molt.Engine", moltAssemblies);
        Assert.Contains("Npgsql", moltAssemblies);
        Assert.Contains("Serilog", moltAssemblies);
        Assert.DoesNotContain(AssemblyLoadContext.Default.Assemblies, a => a.GetName().Name == "Molt.Engine");

        // The test process itself uses another Npgsql (through Molt.Testing) in the default context: both coexist.
        var testsNpgsql = typeof(Npgsql.NpgsqlConnection).Assembly;
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(testsNpgsql));
        Assert.NotSame(testsNpgsql, molt.Assemblies.Single(a => a.GetName().Name == "Npgsql"));
    }

    /// <summary>The module's output type is not referenced by the tests (it lives in the module's load context): read it by property.</summary>
    private static IEnumerable<ConnectionCheck> Checks(PipelineResult result) =>
        result.Output.Select(o =>
        {
            Assert.Equal("Molt.ConnectionCheck", o.TypeNames[0]);
            return new ConnectionCheck((string)o.Properties["Role"].Value, (string)o.Properties["Server"].Value, (string)o.Properties["Version"].Value,
                (string)o.Properties["Check"].Value, (bool)o.Properties["Passed"].Value, (string)o.Properties["Detail"].Value,
                (string?)o.Properties["Remedy"].Value);
        });

    private sealed record ConnectionCheck(string Role, string Server, string Version, string Check, bool Passed, string Detail, string? Remedy);

    private static string Uri(PostgresServer server) => server.ConnectionUri(user: server.AdminUser, password: string.Empty).Replace(":@", "@");

    private static string Uri(MariaDbServer server) => server.ConnectionUri(user: server.AdminUser, password: string.Empty).Replace(":@", "@");

    private static PSCredential AdminCredential(PostgresServer server) => MoltSession.Credential(server.AdminUser, server.AdminPassword);

    private static PSCredential AdminCredential(MariaDbServer server) => MoltSession.Credential(server.AdminUser, server.AdminPassword);

    private static string AdminUser(string uri) => new Uri(uri).UserInfo.Split(':')[0];

    private static int ClosedPort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
