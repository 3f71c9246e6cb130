using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Testing;
using Xunit.Abstractions;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// Failback with things going wrong under it, on two servers (the original source and the migration target, so that
/// restarting one leaves the other running): a pgbench database migrated and cut over, then an application writing to
/// the target while failback sends its changes back. Each run ends with the original equal to the target in every count,
/// sum and digest, every history row once, and a keyless audit table (where a doubled insert is an extra row) equal.
/// </summary>
[Collection(FaultServersCollection.Name)]
public sealed class FailbackFaultTests(FaultServersFixture fixture, ITestOutputHelper output)
{
    private const string SourceRetry = "The source stream failed; starting it again";
    private const string ApplyRetry = "Applying the batch again";

    [Fact]
    public async Task The_original_source_restarted_mid_failback_is_written_again_once_it_is_back_and_nothing_is_lost_or_applied_twice()
    {
        await using var run = await FailbackRun.CutOverAsync(fixture, "fbsrcrst", output);
        var stopped = await run.FailBackAsync(async ct =>
        {
            var writer = run.WriteOnTargetAsync(12, ct);
            await run.WaitForAppliedAsync(ct);
            await fixture.Source.RestartAsync(ct);
            await run.WaitForAppliedAsync(ct);
            (await writer).EnsureExited();
        });

        await run.AssertEqualAsync();
        Assert.True(stopped.Retries > 0, "The final status counts no retry.");
        run.AssertLogged(ApplyRetry, atLeast: 1);
    }

    [Fact]
    public async Task The_migration_target_restarted_mid_failback_keeps_the_failback_slot_and_the_stream_reconnects_losing_nothing()
    {
        await using var run = await FailbackRun.CutOverAsync(fixture, "fbtgtrst", output);
        var stopped = await run.FailBackAsync(async ct =>
        {
            // The writer's sessions die with the server: what they committed stands, what they had open is rolled back.
            var before = run.WriteOnTargetAsync(15, ct);
            await run.WaitForAppliedAsync(ct);
            await fixture.Target.RestartAsync(ct);
            await before;
            Assert.Equal(1L, await fixture.Target.ScalarAsync<long>(run.TargetDb, $"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'moltfb_{run.FetchId}'", ct));
            var after = run.WriteOnTargetAsync(4, ct);
            await run.WaitForAppliedAsync(ct);
            (await after).EnsureExited();
        });

        await run.AssertEqualAsync();
        Assert.True(stopped.Retries > 0, "The final status counts no retry.");
        run.AssertLogged(SourceRetry, atLeast: 1);
    }

    [Fact]
    public async Task A_column_added_on_the_target_during_failback_stops_it_naming_the_change_with_its_checkpoint_intact_and_after_the_same_change_on_the_original_it_goes_on()
    {
        await using var run = await FailbackRun.CutOverAsync(fixture, "fbddl", output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await fixture.Target.ExecuteAsync(run.TargetDb, "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 100", timeout.Token);

        await using (var failback = await run.OpenFailbackAsync(new FailbackOptions { FetchId = run.FetchId, StatusInterval = TimeSpan.FromMilliseconds(200) }, timeout.Token))
        {
            var running = failback.RunAsync(null, timeout.Token);
            await SessionTestSupport.WaitUntilAsync(async () => running.IsCompleted ||
                await run.OriginalScalarAsync("SELECT sum(abalance) FROM pgbench_accounts WHERE aid <= 100") == 100);
            Assert.NotNull(await run.OriginalCheckpointAsync());
            var changedAt = await fixture.Target.ScalarAsync<string>(run.TargetDb, "SELECT pg_current_wal_lsn()::text", timeout.Token);

            // The application's schema change, then rows written with it.
            await fixture.Target.ExecuteAsync(run.TargetDb, """
                ALTER TABLE pgbench_accounts ADD COLUMN note text;
                UPDATE pgbench_accounts SET abalance = abalance + 1, note = 'after the change' WHERE aid <= 10;
                """, timeout.Token);
            var error = await Assert.ThrowsAsync<MoltException>(() => running);

            Assert.Equal(("SchemaChanged", MoltErrorKind.SchemaMismatch), (error.ErrorId, error.Kind));
            Assert.Contains("column \"note\" (text) was added", error.Message, StringComparison.Ordinal);
            Assert.Contains("on the migration target", error.Message, StringComparison.Ordinal);
            Assert.Contains("original", error.Remedy, StringComparison.Ordinal);
            Assert.Contains("Invoke-MoltFailback", error.Remedy, StringComparison.Ordinal);
            // Nothing of the changed table's later transaction reached the original, and the checkpoint stands where it was.
            Assert.True(await fixture.Source.ScalarAsync<bool>(run.SourceDb,
                $"SELECT position::pg_lsn < '{changedAt}'::pg_lsn FROM _molt.replication_checkpoints WHERE fetch_id = '{run.FetchId}'", timeout.Token));
            Assert.Equal(100L, await run.OriginalScalarAsync("SELECT sum(abalance) FROM pgbench_accounts WHERE aid <= 100"));
            var status = Assert.Single(await ReplicationControl.ReadStatusAsync(run.TargetAddress, run.FetchId, timeout.Token), s => s.Direction == ReplicationDirection.Failback);
            Assert.Equal(ReplicationState.Failed, status.State);
            Assert.Equal(error.Message, status.Error);
        }

        // The fix: the same column on the original; failback then goes on from its checkpoint.
        await fixture.Source.ExecuteAsync(run.SourceDb, "ALTER TABLE pgbench_accounts ADD COLUMN note text", timeout.Token);
        await fixture.Target.ExecuteAsync(run.TargetDb, "UPDATE pgbench_accounts SET note = 'later' WHERE aid = 50", timeout.Token);
        var updatesBefore = await run.OriginalScalarAsync($"SELECT updates FROM _molt.replication_checkpoints WHERE fetch_id = '{run.FetchId}'", timeout.Token);
        var resumed = await run.FailBackAsync(new FailbackOptions { FetchId = run.FetchId, StopWhenCaughtUp = true, StatusInterval = TimeSpan.FromMilliseconds(200) }, timeout.Token);

        Assert.Equal(ReplicationState.Stopped, resumed.State);
        // The counts go on from the checkpoint's: exactly the ten updates made with the new column and the one after.
        Assert.Equal(11L, resumed.Updates - updatesBefore);
        await run.AssertEqualAsync("""SELECT md5(string_agg(concat_ws(':', "aid", "abalance", "note"), ',' ORDER BY "aid")) FROM "pgbench_accounts" """);
    }

    [Fact]
    public async Task Failback_with_StopWhenCaughtUp_under_a_writer_stops_by_itself_and_once_the_writer_stops_a_second_one_leaves_the_original_equal()
    {
        await using var run = await FailbackRun.CutOverAsync(fixture, "fbcaught", output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var writer = run.WriteOnTargetAsync(25, timeout.Token, rate: 100);
        await SessionTestSupport.WaitUntilAsync(async () => await fixture.Target.ScalarAsync<long>(run.TargetDb, "SELECT count(*) FROM pgbench_history", timeout.Token) > 50);

        var first = await run.FailBackAsync(new FailbackOptions { FetchId = run.FetchId, StopWhenCaughtUp = true, StatusInterval = TimeSpan.FromMilliseconds(200) }, timeout.Token);
        Assert.Equal(ReplicationState.Stopped, first.State);
        Assert.False(writer.IsCompleted, "The writer ended before failback stopped: StopWhenCaughtUp was not tried under writes.");
        Assert.True(first.Inserts > 0, "The first failback applied no insert.");

        (await writer).EnsureExited();
        var second = await run.FailBackAsync(new FailbackOptions { FetchId = run.FetchId, StopWhenCaughtUp = true, StatusInterval = TimeSpan.FromMilliseconds(200) }, timeout.Token);
        Assert.Equal(ReplicationState.Stopped, second.State);
        await run.AssertEqualAsync();
        // Every row of the writer went back exactly once over the two runs (each of its transactions inserts two rows;
        // the second run's counts go on from the first's checkpoint).
        Assert.Equal(2 * await run.TargetHistoryAsync(timeout.Token), second.Inserts);
    }
}

/// <summary>
/// One failback of a fault test: a pgbench database on the source server migrated into the target server with
/// replication and cut over (which leaves the failback slot), then the application's writes on the target.
/// </summary>
internal sealed class FailbackRun : IAsyncDisposable
{
    // The application on the target after the cutover: pgbench's tpcb-like transaction, with a history id from a target
    // sequence of its own (the original's sequence is not replicated) and the same row in a keyless audit table.
    private const string WriterScript = """
        \set aid random(1, 100000)
        \set bid 1
        \set tid random(1, 10)
        \set delta random(-5000, 5000)
        BEGIN;
        UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
        UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
        UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
        INSERT INTO pgbench_history (id, tid, bid, aid, delta, mtime) VALUES (nextval('app_history_ids'), :tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
        INSERT INTO pgbench_audit VALUES (:aid, :delta);
        END;
        """;

    private static readonly string[] AuditChecks =
    [
        """SELECT count(*)::text || md5(string_agg(concat_ws(':', "aid", "delta"), ',' ORDER BY "aid", "delta")) FROM "pgbench_audit" """,
    ];

    private readonly List<MoltLogEvent> events = [];
    private readonly ITestOutputHelper output;
    private readonly string scriptPath = Path.Combine(Path.GetTempPath(), $"molt-failback-writer-{Guid.NewGuid():N}.sql");
    private MoltLogSession? log;

    private FailbackRun(FaultServersFixture servers, string name, ITestOutputHelper output)
    {
        this.output = output;
        Servers = servers;
        FetchId = $"{name}{Guid.NewGuid():N}"[..16];
        SourceDb = $"src_{FetchId}";
        TargetDb = $"dst_{FetchId}";
        SourceAddress = EndpointAddress.Parse(servers.Source.ConnectionUri(SourceDb));
        TargetAddress = EndpointAddress.Parse(servers.Target.ConnectionUri(TargetDb));
        File.WriteAllText(scriptPath, WriterScript);
    }

    public FaultServersFixture Servers { get; }

    public string FetchId { get; }

    public string SourceDb { get; }

    public string TargetDb { get; }

    public EndpointAddress SourceAddress { get; }

    public EndpointAddress TargetAddress { get; }

    /// <summary>Migrates a fresh pgbench database with replication and stops it at the cutover, leaving the failback slot.</summary>
    public static async Task<FailbackRun> CutOverAsync(FaultServersFixture servers, string name, ITestOutputHelper output)
    {
        var run = new FailbackRun(servers, name, output);
        run.log = new MoltLogSession(run.Record, minimumLevel: MoltLogLevel.Debug);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await servers.Source.CreateDatabaseAsync(run.SourceDb, timeout.Token);
        (await ReplicationUnderPgbenchTests.RunPgbenchAsync(servers.Source, run.SourceDb, ["-i", "-s", "1", "-q"], timeout.Token)).EnsureExited();
        // Every table needs a key to be replicated, except the audit table, matched by all its columns.
        await servers.Source.ExecuteAsync(run.SourceDb, """
            ALTER TABLE "pgbench_history" ADD COLUMN "id" bigserial PRIMARY KEY;
            CREATE TABLE "pgbench_audit" ("aid" int NOT NULL, "delta" int NOT NULL);
            ALTER TABLE "pgbench_audit" REPLICA IDENTITY FULL;
            """, timeout.Token);
        await servers.Target.CreateDatabaseAsync(run.TargetDb, timeout.Token);

        var options = new ReplicationOptions
        {
            FetchId = run.FetchId,
            Load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate },
            StatusInterval = TimeSpan.FromMilliseconds(200),
        };
        var states = new List<ReplicationState>();
        await using var session = await ReplicationSession.OpenAsync(run.SourceAddress, run.TargetAddress, options, run.log, timeout.Token);
        var running = session.StartAsync(await session.PlanAsync(timeout.Token), new BulkLoadCallbacks(), _ => { }, new StateReports(states), timeout.Token);
        await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(Reported(states, ReplicationState.Streaming) || running.IsCompleted));
        Assert.False(running.IsFaulted, running.Exception?.ToString());
        // The failback publication needs every table to identify its rows on the target too.
        await servers.Target.ExecuteAsync(run.TargetDb, """
            ALTER TABLE "pgbench_audit" REPLICA IDENTITY FULL;
            CREATE SEQUENCE "app_history_ids" START 1000000;
            """, timeout.Token);
        await ReplicationControl.RequestStopAsync(run.TargetAddress, run.FetchId, immediately: false, timeout.Token);
        var cutover = await running;
        Assert.Equal((ReplicationState.Stopped, $"moltfb_{run.FetchId}"), (cutover.State, cutover.FailbackSlot));
        return run;
    }

    public Task<FailbackSession> OpenFailbackAsync(FailbackOptions options, CancellationToken ct) =>
        FailbackSession.OpenAsync(SourceAddress, TargetAddress, options, log!, ct);

    public async Task<ReplicationStatus> FailBackAsync(FailbackOptions options, CancellationToken ct)
    {
        await using var failback = await OpenFailbackAsync(options, ct);
        return await failback.RunAsync(null, ct);
    }

    /// <summary>
    /// Starts failback, runs <paramref name="scenario"/> (writes on the target and faults) once it streams, then asks for
    /// its stop at the target's end from another session and returns the final status.
    /// </summary>
    public async Task<ReplicationStatus> FailBackAsync(Func<CancellationToken, Task> scenario)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var states = new List<ReplicationState>();
        await using var failback = await OpenFailbackAsync(new FailbackOptions { FetchId = FetchId, StatusInterval = TimeSpan.FromMilliseconds(500) }, timeout.Token);
        var running = failback.RunAsync(new StateReports(states), timeout.Token);
        await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(Reported(states, ReplicationState.Streaming) || running.IsCompleted));
        Assert.False(running.IsFaulted, running.Exception?.ToString());

        var scenarioRun = scenario(timeout.Token);
        if (await Task.WhenAny(scenarioRun, running) == running)
        {
            output.WriteLine(running.Exception?.ToString() ?? running.Status.ToString());
            await running;
            Assert.Fail("Failback stopped during the faults.");
        }

        await scenarioRun;
        Assert.False(running.IsCompleted, $"Failback ended during the faults: {running.Status} {running.Exception}");
        await ReplicationControl.RequestStopAsync(TargetAddress, FetchId, immediately: false, ReplicationDirection.Failback, timeout.Token);
        var stopped = await running;
        Assert.Equal((ReplicationState.Stopped, ReplicationDirection.Failback), (stopped.State, stopped.Direction));
        Assert.True(stopped.Changes > 0, "Nothing was failed back.");
        output.WriteLine($"failed back {stopped.Transactions} transactions, {stopped.Changes} changes, {stopped.Retries} retries");
        return stopped;
    }

    /// <param name="rate">Transactions per second at most (pgbench -R); unbounded when null.</param>
    public Task<ReplicationUnderPgbenchTests.PgbenchResult> WriteOnTargetAsync(int seconds, CancellationToken ct, int? rate = null) =>
        ReplicationUnderPgbenchTests.RunPgbenchAsync(Servers.Target, TargetDb,
            ["-c", "2", "-j", "2", "-T", $"{seconds}", "-n", "-f", scriptPath, .. rate is { } r ? (string[])["-R", $"{r}"] : []], ct);

    /// <summary>Until the original holds more history than now: failback is applying again.</summary>
    public async Task WaitForAppliedAsync(CancellationToken ct)
    {
        var before = await OriginalScalarAsync("SELECT count(*) FROM pgbench_history", ct);
        await SessionTestSupport.WaitUntilAsync(async () => await OriginalScalarAsync("SELECT count(*) FROM pgbench_history", ct) > before, TimeSpan.FromSeconds(90));
    }

    public async Task<long> OriginalScalarAsync(string sql, CancellationToken ct = default) => await Servers.Source.ScalarAsync<long>(SourceDb, sql, ct);

    public Task<long> TargetHistoryAsync(CancellationToken ct) =>
        Servers.Target.ScalarAsync<long>(TargetDb, "SELECT count(*) FROM pgbench_history WHERE id >= 1000000", ct);

    /// <summary>Failback's checkpoint in the original's <c>_molt</c>: where its next run starts.</summary>
    public Task<string?> OriginalCheckpointAsync() =>
        Servers.Source.ScalarAsync<string>(SourceDb, $"SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = '{FetchId}'");

    public async Task AssertEqualAsync(params string[] more)
    {
        foreach (var check in ReplicationUnderPgbenchTests.Checks.Concat(AuditChecks).Concat(more))
        {
            Assert.Equal((check, await Servers.Target.ScalarAsync<string>(TargetDb, check)), (check, await Servers.Source.ScalarAsync<string>(SourceDb, check)));
        }

    }

    /// <summary>The retries are visible in the log.</summary>
    public void AssertLogged(string text, int atLeast)
    {
        lock (events)
        {
            var count = events.Count(e => e.Level == MoltLogLevel.Warning && e.Message.Contains(text, StringComparison.Ordinal));
            Assert.True(count >= atLeast, $"'{text}' was logged {count} times, not at least {atLeast}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (events)
        {
            foreach (var e in events.Where(e => e.Level >= MoltLogLevel.Information))
            {
                output.WriteLine($"{e.Timestamp:HH:mm:ss.fff} {e.Level} {e.Message} {e.Exception?.Split('\n')[0]}");
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await ReplicationControl.RemoveAsync(SourceAddress, TargetAddress, FetchId, null, null, timeout.Token);
        }
        catch (MoltException ex)
        {
            // A test that failed part way may leave the stream held; its slots go with the server.
            output.WriteLine($"remove: {ex.Message}");
        }

        log?.Dispose();
        File.Delete(scriptPath);
    }

    private static bool Reported(List<ReplicationState> states, ReplicationState state)
    {
        lock (states)
        {
            return states.Contains(state);
        }
    }

    private void Record(MoltLogEvent e)
    {
        lock (events)
        {
            events.Add(e);
        }
    }
}
