using System.Management.Automation;

namespace Molt.PowerShell.Tests;

[Collection(ServerCollection.Name)]
public sealed class CompareMoltDataTests(ServerFixture servers)
{
    [Fact]
    public async Task LoadResultsPipeIntoCompareMoltDataWhichReportsEachDifference()
    {
        var (source, target) = await DatabasesAsync("ps_cmp", rows: 1000);
        using var session = new MoltSession();
        var result = session.Invoke("""
            $s = $args[2]
            Start-MoltBulkLoad -Source $args[0] -Target $args[1] -SourceCredential $s -TargetCredential $s -TableHandling DropAndRecreate -Force |
                Where-Object { $_.PSObject.TypeNames[0] -eq 'Molt.BulkLoadTableResult' } |
                Compare-MoltData -SourceCredential $s -TargetCredential $s
            """, Uri(source), Uri(target), Credential());
        Assert.Empty(result.Errors);
        Assert.Equal(["public.items", "public.tags"], result.Output.Select(o => (string)o.Properties["Table"].Value).Order());
        Assert.All(result.Output, o => Assert.Equal("Molt.TableComparison", o.TypeNames[0]));
        Assert.All(result.Output, o => Assert.Equal("Equal", Convert.ToString(o.Properties["Status"].Value)));

        await servers.Postgres.ExecuteAsync(target, "UPDATE items SET name = 'renamed' WHERE id = 42; DELETE FROM tags WHERE tag = 'b';");
        var detailed = session.Invoke("[pscustomobject]@{ Source = $args[0]; Target = $args[1]; Table = 'items', 'tags' } | Compare-MoltData -SourceCredential $args[2] -TargetCredential $args[2] -Detailed",
            Uri(source), Uri(target), Credential());
        Assert.Empty(detailed.Errors);
        var differences = detailed.Output.Where(o => o.TypeNames[0] == "Molt.RowDifference").ToList();
        Assert.Equal(2, differences.Count);
        var mismatch = Assert.Single(differences, d => (string)d.Properties["Kind"].Value == "Mismatch");
        Assert.Equal("id=42", mismatch.Properties["Key"].Value);
        Assert.Equal(new[] { "name" }, (string[])mismatch.Properties["Columns"].Value);
        Assert.Equal("tag=b", Assert.Single(differences, d => (string)d.Properties["Kind"].Value == "Missing").Properties["Key"].Value);
        Assert.Contains(detailed.Output, o => o.TypeNames[0] == "Molt.TableComparison" && Convert.ToString(o.Properties["Status"].Value) == "Different");
        Assert.DoesNotContain(servers.Postgres.AdminPassword, detailed.AllText());
    }

    [Fact]
    public async Task CtrlCStopsALongComparisonWithinSeconds()
    {
        var (source, target) = await DatabasesAsync("ps_cmp_stop", rows: 1_500_000);
        using var session = new MoltSession();
        using var shell = System.Management.Automation.PowerShell.Create();
        shell.Runspace = session.Runspace;
        shell.AddCommand("Compare-MoltData").AddParameter("Source", Uri(source)).AddParameter("Target", Uri(target))
            .AddParameter("SourceCredential", Credential()).AddParameter("TargetCredential", Credential()).AddParameter("Table", "items");
        var started = System.Diagnostics.Stopwatch.StartNew();
        var running = shell.BeginInvoke();
        // Stopped once rows are being compared (a progress record), however long the busy machine took to get there.
        while (shell.Streams.Progress.Count == 0 && !running.IsCompleted && started.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        shell.Stop();
        var stopped = Record.Exception(() => shell.EndInvoke(running));
        Assert.True(stopped is PipelineStoppedException,
            $"expected the pipeline to stop; it ended with {stopped?.GetType().Name ?? "no exception"} after {started.Elapsed}, state {shell.InvocationStateInfo.State}, errors: {string.Join("; ", shell.Streams.Error)}, progress {shell.Streams.Progress.Count}, output {(stopped is null ? string.Join("; ", shell.EndInvoke(running)) : "")}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {clock.Elapsed}");
        Assert.Equal(PSInvocationState.Stopped, shell.InvocationStateInfo.State);
    }

    private async Task<(string Source, string Target)> DatabasesAsync(string prefix, int rows)
    {
        var source = $"{prefix}_src";
        var target = $"{prefix}_dst";
        await servers.Postgres.CreateDatabaseAsync(source);
        await servers.Postgres.CreateDatabaseAsync(target);
        var setup = $"""
            CREATE TABLE items (id bigint PRIMARY KEY, name text);
            INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, {rows}) g;
            CREATE TABLE tags (tag text PRIMARY KEY);
            INSERT INTO tags VALUES ('a'), ('b'), ('c');
            """;
        await servers.Postgres.ExecuteAsync(source, setup);
        if (rows > 100_000)
        {
            await servers.Postgres.ExecuteAsync(target, setup);
        }

        return (source, target);
    }

    private string Uri(string database) => servers.Postgres.ConnectionUri(database, password: string.Empty).Replace(":@", "@");

    private PSCredential Credential() => MoltSession.Credential(servers.Postgres.AdminUser, servers.Postgres.AdminPassword);
}
