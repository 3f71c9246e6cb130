using System.Diagnostics;
using System.Text;
using Molt.Testing;

namespace Molt.PowerShell.Tests;

/// <summary>
/// A load whose process is killed outright (SIGKILL: nothing runs after it, not even the Ctrl+C path that marks a run
/// interrupted) resumes with -Resume and ends equal to the source, with no row twice and none missing.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class KilledLoadTests(ServerFixture servers)
{
    [Fact]
    public async Task AKilledLoadProcessLeavesOnlyWholeShardsAndResumeFinishesIt()
    {
        const string source = "killed_src";
        const string target = "killed_dst";
        await servers.Postgres.CreateDatabaseAsync(source);
        await servers.Postgres.CreateDatabaseAsync(target);
        await servers.Postgres.ExecuteAsync(source, """
            CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL);
            INSERT INTO events SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 600000) g;
            ANALYZE;
            """);
        const string load = "Start-MoltBulkLoad -Source $args[0] -Target $args[1] -TableHandling DropAndRecreate -Force -ShardsPerTable 8 -FetchId killed";
        var sourceUri = servers.Postgres.ConnectionUri(source, password: servers.Postgres.AdminPassword);
        var targetUri = servers.Postgres.ConnectionUri(target, password: servers.Postgres.AdminPassword);

        var errors = new StringBuilder();
        using (var child = StartScript(errors, load, sourceUri, targetUri))
        {
            // Killed once the load is well under way: some shards may be done, most are mid-copy.
            var killed = false;
            while (!killed && await child.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.Split('\t') is ["progress", "Loading public.events", var percent] && int.Parse(percent) >= 15)
                {
                    child.Kill();
                    killed = true;
                }
            }

            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(30)), "the load process did not die");
            Assert.True(killed, $"the load ended before it could be killed: {errors}");
        }

        // The dead process never marked its run: it still says running. Its open COPY transactions end with its
        // connections, so the table holds exactly the rows of the shards marked done.
        await WaitForNoMoltSessionAsync(target);
        Assert.Equal("running", await servers.Postgres.ScalarAsync<string>(target, "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'killed'"));
        var doneBefore = await servers.Postgres.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_shards WHERE fetch_id = 'killed' AND status = 'done'");
        Assert.InRange(doneBefore, 0, 7);
        Assert.Equal(await servers.Postgres.ScalarAsync<long>(target, "SELECT coalesce(sum(rows_loaded), 0)::bigint FROM _molt.fetch_shards WHERE status = 'done'"),
            await servers.Postgres.ScalarAsync<long>(target, "SELECT count(*) FROM events"));

        using var session = new MoltSession();
        // No session holds the run any more: Get-MoltFetchStatus says so rather than "running".
        var status = session.Invoke("Get-MoltFetchStatus -Target $args[0] -FetchId killed", targetUri);
        Assert.Equal("Abandoned", Convert.ToString(Assert.Single(status.Output).Properties["Status"].Value));
        var resumed = session.Invoke(load + " -Resume", sourceUri, targetUri);
        Assert.Empty(resumed.Errors);
        Assert.Equal("Succeeded", Convert.ToString(Assert.Single(resumed.Output, o => o.TypeNames[0] == "Molt.BulkLoadSummary").Properties["Status"].Value));
        var compared = session.Invoke("Compare-MoltData -Source $args[0] -Target $args[1]", sourceUri, targetUri);
        Assert.Equal("Equal", Convert.ToString(Assert.Single(compared.Output).Properties["Status"].Value));
        Assert.Equal(600_000L, await servers.Postgres.ScalarAsync<long>(target, "SELECT count(*) FROM events"));
    }

    /// <summary>Starts tests/Molt.ScriptProcess, built beside this test project, on the laid-out module.</summary>
    private static Process StartScript(StringBuilder errors, string script, params string[] arguments)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var program = Path.Combine(MoltSession.RepositoryRoot, "tests", "Molt.ScriptProcess", "bin", configuration, "net10.0", "Molt.ScriptProcess.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { program, MoltSession.ModuleManifest, script }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The server ends a dead client's sessions (its COPYs, its claim on the run) when it notices their sockets closed: wait for that.</summary>
    private async Task WaitForNoMoltSessionAsync(string database)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (await servers.Postgres.ScalarAsync<long>("postgres",
                    $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND application_name = 'molt'") == 0)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the killed load's sessions are still open on the target");
    }
}
