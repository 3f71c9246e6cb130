using System.Diagnostics;
using System.Text.RegularExpressions;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.State;
using Molt.Testing;
using Xunit.Abstractions;

namespace Molt.Engine.Tests.Replication;

/// <summary>A stream started while pgbench (tpcb-like) writes to the source, through the load and into streaming, then stopped at the source's end.</summary>
[Collection(ApplyTargetCollection.Name)]
public sealed partial class ReplicationUnderPgbenchTests(ApplyTargetFixture fixture, ITestOutputHelper output)
{
    private const string Pgbench = "/usr/lib/postgresql/15/bin/pgbench";
    private const int Seconds = 15;
    private const string FetchId = "pgbench";

    // A lost or doubled change moves a count or a sum; the digests also catch a change applied to the wrong row.
    internal static readonly string[] Checks =
    [
        """SELECT count(*)::text FROM "pgbench_accounts" """,
        """SELECT count(*)::text FROM "pgbench_tellers" """,
        """SELECT count(*)::text FROM "pgbench_branches" """,
        """SELECT count(*)::text FROM "pgbench_history" """,
        """SELECT sum("abalance")::text FROM "pgbench_accounts" """,
        """SELECT sum("bbalance")::text FROM "pgbench_branches" """,
        """SELECT sum("tbalance")::text FROM "pgbench_tellers" """,
        """SELECT sum("delta")::text FROM "pgbench_history" """,
        """SELECT md5(string_agg(concat_ws(':', "aid", "abalance"), ',' ORDER BY "aid")) FROM "pgbench_accounts" """,
        """SELECT md5(string_agg(concat_ws(':', "tid", "tbalance"), ',' ORDER BY "tid")) FROM "pgbench_tellers" """,
        """SELECT md5(string_agg(concat_ws(':', "bid", "bbalance"), ',' ORDER BY "bid")) FROM "pgbench_branches" """,
        """SELECT concat_ws(',', count(*), count(DISTINCT "id"), sum("id"), md5(string_agg(concat_ws(':', "id", "tid", "bid", "aid", "delta"), ',' ORDER BY "id"))) FROM "pgbench_history" """,
    ];

    [Fact]
    public async Task A_stream_started_under_a_pgbench_load_and_stopped_at_the_sources_end_leaves_every_table_count_and_balance_equal()
    {
        var clock = Stopwatch.StartNew();
        var server = fixture.Server;
        var sourceDb = $"pgb_src_{Guid.NewGuid():N}"[..20];
        await server.CreateDatabaseAsync(sourceDb);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        (await RunPgbenchAsync(server, sourceDb, ["-i", "-s", "2", "-q"], timeout.Token)).EnsureExited();
        // Every table needs a key to be replicated; the default fills it for pgbench's own inserts.
        await server.ExecuteAsync(sourceDb, """ALTER TABLE "pgbench_history" ADD COLUMN "id" bigserial PRIMARY KEY""");
        await using var target = await fixture.NewTargetAsync("pgb_dst", "SELECT 1");
        var sourceAddress = EndpointAddress.Parse(server.ConnectionUri(sourceDb));
        var targetAddress = EndpointAddress.Parse(server.ConnectionUri(target.Database));
        var options = new ReplicationOptions
        {
            FetchId = FetchId,
            Load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate },
            StatusInterval = TimeSpan.FromMilliseconds(200),
        };
        using var log = MoltLogSession.None();
        var states = new List<ReplicationState>();
        BulkLoadSummary? loaded = null;

        var bench = RunPgbenchAsync(server, sourceDb, ["-c", "4", "-j", "2", "-T", $"{Seconds}", "-n"], timeout.Token);
        // The load starts with pgbench already committing, so its snapshot and the slot's start fall mid-traffic.
        await SessionTestSupport.WaitUntilAsync(async () => bench.IsCompleted || await server.ScalarAsync<long>(sourceDb, """SELECT count(*) FROM "pgbench_history" """) > 100);
        Assert.False(bench.IsCompleted, "pgbench ended before the session started.");

        ReplicationStatus stopped;
        await using (var session = await ReplicationSession.OpenAsync(sourceAddress, targetAddress, options, log, timeout.Token))
        {
            var running = session.StartAsync(await session.PlanAsync(timeout.Token), new BulkLoadCallbacks(), summary => loaded = summary, new StateReports(states),
                timeout.Token);
            await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(Streaming(states) || running.IsCompleted));
            Assert.False(running.IsFaulted, running.Exception?.ToString());
            Assert.Equal(RunStatus.Succeeded, loaded!.Status);
            Assert.False(bench.IsCompleted, "pgbench ended before the stream began, so nothing was written during streaming.");
            var streamingAt = clock.Elapsed;
            var transactions = (await bench).EnsureExited().Transactions;
            output.WriteLine($"pgbench: {transactions} transactions in {Seconds} s; streaming began {streamingAt.TotalSeconds:F1} s into the test");
            Assert.Equal(transactions, await server.ScalarAsync<long>(sourceDb, """SELECT count(*) FROM "pgbench_history" """));

            await ReplicationControl.RequestStopAsync(targetAddress, FetchId, immediately: false, timeout.Token);
            stopped = await running;
        }

        Assert.Equal(ReplicationState.Stopped, stopped.State);
        foreach (var check in Checks)
        {
            Assert.Equal((check, await server.ScalarAsync<string>(sourceDb, check)), (check, await target.ScalarAsync<string>(check)));
        }

        Assert.True(stopped.Changes > 0, "Nothing was streamed: every change came with the load.");
        output.WriteLine($"streamed: {stopped.Transactions} transactions, {stopped.Changes} changes ({stopped.Inserts} inserts, {stopped.Updates} updates, " +
                         $"{stopped.Deletes} deletes); test {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal((true, true), await ReplicationControl.RemoveAsync(sourceAddress, targetAddress, FetchId, null, null, timeout.Token));
    }

    private static bool Streaming(List<ReplicationState> states)
    {
        lock (states)
        {
            return states.Contains(ReplicationState.Streaming);
        }
    }

    /// <summary>Runs pgbench against the server's admin login; the password goes in the environment, never on the command line.</summary>
    internal static async Task<PgbenchResult> RunPgbenchAsync(PostgresServer server, string database, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var info = new ProcessStartInfo(Pgbench)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["PGPASSWORD"] = server.AdminPassword },
        };
        foreach (var argument in (string[])["-h", server.Host, "-p", $"{server.Port}", "-U", server.AdminUser, .. arguments, database])
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start pgbench.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new PgbenchResult(process.ExitCode, await stdout, await stderr);
    }

    [GeneratedRegex(@"number of transactions actually processed: (\d+)")]
    private static partial Regex ProcessedPattern();

    internal sealed record PgbenchResult(int ExitCode, string StandardOutput, string StandardError)
    {
        public long Transactions => long.Parse(ProcessedPattern().Match(StandardOutput).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        public PgbenchResult EnsureExited()
        {
            Assert.True(ExitCode == 0, $"pgbench exited with code {ExitCode}: {StandardError}");
            return this;
        }
    }
}
