using System.Management.Automation;
using Molt.Testing;

namespace Molt.PowerShell.Tests;

[Collection(ServerCollection.Name)]
public sealed class StartMoltBulkLoadTests(ServerFixture servers)
{
    private const string Load = "Start-MoltBulkLoad -Source $args[0] -Target $args[1] -SourceCredential $args[2] -TargetCredential $args[2]";

    [Fact]
    public async Task LoadWritesOneResultPerTableThenASummaryWithProgressAndNoPassword()
    {
        var (source, target) = await DatabasesAsync("ps_load");
        using var session = new MoltSession();
        var result = session.Invoke($"{Load} -TableHandling DropAndRecreate -Force -ShardsPerTable 2 -Verbose", Uri(source), Uri(target), Credential());

        Assert.Empty(result.Errors);
        Assert.Null(result.Terminating);
        var tables = result.Output.Where(o => o.TypeNames[0] == "Molt.BulkLoadTableResult").ToList();
        Assert.Equal(["public.items", "public.tags"], tables.Select(t => (string)t.Properties["Table"].Value).Order());
        Assert.All(tables, t => Assert.Equal("Succeeded", Convert.ToString(t.Properties["Status"].Value)));
        Assert.Equal(30_000L, tables.Single(t => (string)t.Properties["Table"].Value == "public.items").Properties["Rows"].Value);
        var summary = Assert.Single(result.Output, o => o.TypeNames[0] == "Molt.BulkLoadSummary");
        Assert.Equal("Succeeded", Convert.ToString(summary.Properties["Status"].Value));
        Assert.Equal(30_003L, summary.Properties["Rows"].Value);
        Assert.Matches("^[0-9A-F]+/[0-9A-F]+$", (string)summary.Properties["SnapshotPosition"].Value);
        Assert.Equal(tables.Count + 1, result.Output.Count);
        Assert.NotEmpty(result.Verbose);
        Assert.Contains(result.Progress, p => p.Activity == "Loading public.items");
        Assert.Equal(30_000L, await servers.Postgres.ScalarAsync<long>(target, "SELECT count(*) FROM items"));
        Assert.DoesNotContain(servers.Postgres.AdminPassword, result.AllText());

        var status = session.Invoke("Get-MoltFetchStatus -Target $args[0] -TargetCredential $args[1] -FetchId $args[2]", Uri(target), Credential(),
            summary.Properties["FetchId"].Value);
        var run = Assert.Single(status.Output);
        Assert.Equal("Succeeded", Convert.ToString(run.Properties["Status"].Value));
        Assert.Equal(run.Properties["ShardsTotal"].Value, run.Properties["ShardsDone"].Value);
    }

    [Fact]
    public async Task WhatIfPrintsThePlanAndChangesNothing()
    {
        var (source, target) = await DatabasesAsync("ps_whatif");
        await servers.Postgres.ExecuteAsync(target, "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2)); INSERT INTO items VALUES (1, 'keep', 1)");
        using var session = new MoltSession();
        var result = session.Invoke($"{Load} -TableHandling DropAndRecreate -WhatIf", Uri(source), Uri(target), Credential());

        Assert.Empty(result.Errors);
        Assert.Empty(result.Output);
        Assert.Contains("What if:", session.Host.Text);
        Assert.Contains("public.items -> public.items", session.Host.Text);
        Assert.Contains("DROP TABLE IF EXISTS \"public\".\"items\"", session.Host.Text);
        Assert.Contains("CREATE TABLE", session.Host.Text);
        Assert.Equal("keep", await servers.Postgres.ScalarAsync<string>(target, "SELECT name FROM items"));
        Assert.Equal(0L, await servers.Postgres.ScalarAsync<long>(target, "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'"));
    }

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
        Assert.Equal("Succeeded", Convert.ToString(Assert.Single(approved.Output, o => o.TypeNames[0] == "Molt.BulkLoadSummary").Properties["Status"].Value));
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

    [Fact]
    public async Task WrongTargetPasswordFailsBeforeAnythingIsWrittenAndIsNeverShown()
    {
        var (source, target) = await DatabasesAsync("ps_badpw");
        using var session = new MoltSession();
        const string wrong = "Not-The-Pa55word";
        var result = session.Invoke("Start-MoltBulkLoad -Source $args[0] -Target $args[1] -SourceCredential $args[2] -TargetCredential $args[3]",
            Uri(source), Uri(target), Credential(), MoltSession.Credential(servers.Postgres.AdminUser, wrong));
        // A statement-terminating error: in a script it lands in the error stream and nothing else is written.
        var error = Assert.Single(result.Errors);
        Assert.Equal(ErrorCategory.AuthenticationError, error.CategoryInfo.Category);
        Assert.Empty(result.Output);
        Assert.Equal(0L, await servers.Postgres.ScalarAsync<long>(target, "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'"));
        Assert.DoesNotContain(wrong, result.AllText());
        Assert.DoesNotContain(wrong, session.Host.Text);
    }

    [Theory]
    [InlineData("-ImportUrl http://h:3000", "ImportNeedsPath")]
    [InlineData("-ImportPath ./files", "ImportNeedsUrl")]
    [InlineData("-ImportPath ./files -ImportUrl http://h:3000 -TableHandling DropAndRecreate", "ImportIntoNotSupported")]
    [InlineData("-DeferPrimaryKey", "DeferPrimaryKeyNeedsRecreate")]
    public async Task ParametersThatCannotWorkTogetherAreRefusedBeforeAnythingIsWritten(string parameters, string errorId)
    {
        var (source, target) = await DatabasesAsync($"ps_{errorId.ToLowerInvariant()[..12]}");
        using var session = new MoltSession();
        var result = session.Invoke($"Start-MoltBulkLoad -Source $args[0] -Target $args[1] -SourceCredential $args[2] -TargetCredential $args[2] {parameters} -Confirm:$false",
            Uri(source), Uri(target), Credential());
        var error = Assert.Single(result.Errors);
        Assert.StartsWith(errorId + ",", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Empty(result.Output);
        Assert.Equal(0L, await servers.Postgres.ScalarAsync<long>(target, "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'"));
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
