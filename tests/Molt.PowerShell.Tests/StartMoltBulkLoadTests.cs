using System.Globalization;
using System.Management.Automation;
using Molt.Testing;

namespace Molt.PowerShell.Tests;

[Collection(ServerCollection.Name)]
/// <summary>
/// Prompts, answered by a host that records them: the one part of Start-MoltBulkLoad's surface a pwsh process cannot
/// show (it has no one to answer). The rest is tested in Pester (tests/Pester/StartMoltBulkLoad.Tests.ps1).
/// </summary>
public sealed class StartMoltBulkLoadTests(ServerFixture servers)
{
    private const string Load = "Start-MoltBulkLoad -Source $args[0] -Target $args[1] -SourceCredential $args[2] -TargetCredential $args[2]";

    [Fact]
    public async Task ADestructiveLoadAsksFirstAndAnsweringNoChangesNothing()
    {
        var (source, target) = await DatabasesAsync("ps_ask");
        await servers.Postgres.ExecuteAsync(target, "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2)); INSERT INTO items VALUES (1, 'keep', 1)");
        using var session = new MoltSession();
        session.Host.Answers.Enqueue("N");
        var declined = session.Invoke($"{Load} -TableHandling DropAndRecreate", Uri(source), Uri(target), Credential());

        Assert.Empty(declined.Errors);
        Assert.Empty(declined.Output);
        var prompt = Assert.Single(session.Host.Prompts);
        Assert.Contains("DROP TABLE IF EXISTS \"public\".\"items\", \"public\".\"tags\"", prompt);
        Assert.Equal("keep", await servers.Postgres.ScalarAsync<string>(target, "SELECT name FROM items"));
        Assert.Equal(0L, await servers.Postgres.ScalarAsync<long>(target, "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'"));

        session.Host.Answers.Enqueue("A");
        var approved = session.Invoke($"{Load} -TableHandling DropAndRecreate", Uri(source), Uri(target), Credential());

        Assert.Empty(approved.Errors);
        Assert.Equal(2, session.Host.Prompts.Count);
        Assert.Equal("Succeeded", Convert.ToString(Assert.Single(approved.Output, o => o.TypeNames[0] == "Molt.BulkLoadSummary").Properties["Status"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(30_000L, await servers.Postgres.ScalarAsync<long>(target, "SELECT count(*) FROM items"));
    }

    [Fact]
    public async Task APlainLoadAsksOnlyWithConfirm()
    {
        var (source, target) = await DatabasesAsync("ps_plain");
        await servers.Postgres.ExecuteAsync(target, "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2)); CREATE TABLE tags (tag text PRIMARY KEY)");
        using var session = new MoltSession();
        session.Host.Answers.Enqueue("L");
        var declined = session.Invoke($"{Load} -Confirm", Uri(source), Uri(target), Credential());

        Assert.Empty(declined.Errors);
        Assert.Empty(declined.Output);
        Assert.Single(session.Host.Prompts);

        var loaded = session.Invoke(Load, Uri(source), Uri(target), Credential());

        Assert.Empty(loaded.Errors);
        Assert.Single(session.Host.Prompts);
        Assert.Equal(30_000L, await servers.Postgres.ScalarAsync<long>(target, "SELECT count(*) FROM items"));
    }

    private async Task<(string Source, string Target)> DatabasesAsync(string prefix)
    {
        var source = $"{prefix}_src";
        var target = $"{prefix}_dst";
        await servers.Postgres.CreateDatabaseAsync(source);
        await servers.Postgres.CreateDatabaseAsync(target);
        await servers.Postgres.ExecuteAsync(source, """
            CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2));
            INSERT INTO items SELECT g, 'item ' || g, g / 100.0 FROM generate_series(1, 30000) g;
            CREATE TABLE tags (tag text PRIMARY KEY);
            INSERT INTO tags VALUES ('a'), ('b'), ('c');
            ANALYZE;
            """);
        return (source, target);
    }

    private string Uri(string database) => servers.Postgres.ConnectionUri(database, password: string.Empty).Replace(":@", "@");

    private PSCredential Credential() => MoltSession.Credential(servers.Postgres.AdminUser, servers.Postgres.AdminPassword);
}
