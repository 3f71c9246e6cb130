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

/// <summary>A source and a target on two servers, so that restarting one leaves the other running.</summary>
public sealed class FaultServersFixture : IAsyncLifetime
{
    public PostgresServer Source { get; private set; } = null!;

    public PostgresServer Target { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var source = PostgresServer.StartAsync();
        var target = PostgresServer.StartAsync();
        (Source, Target) = (await source, await target);
    }

    public async Task DisposeAsync()
    {
        await Source.DisposeAsync();
        await Target.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class FaultServersCollection : ICollectionFixture<FaultServersFixture>
{
    public const string Name = "replication fault servers";
}

/// <summary>
/// Streams under pgbench with the network or a server failing under them: the session reaches both servers through a
/// <see cref="TcpFaultProxy"/> each, which cuts, resets or stalls its connections; or a server is restarted. Each stream
/// must retry with backoff (the log says so), and after a stop at the source's end every count, balance sum and digest
/// must be equal on both sides: nothing lost, nothing applied twice.
/// </summary>
[Collection(FaultServersCollection.Name)]
public sealed class ReplicationFaultTests(FaultServersFixture fixture, ITestOutputHelper output)
{
    private const string SourceRetry = "The source stream failed; starting it again";
    private const string ApplyRetry = "Applying the batch again";
    private const string StaleReaderEnded = "which the source had not noticed was gone; that connection was ended";

    [Fact]
    public async Task A_source_connection_cut_several_times_mid_stream_is_reconnected_each_time_and_nothing_is_lost_or_applied_twice()
    {
        await using var run = await FaultRun.CreateAsync(fixture, "cut", output);
        var stopped = await run.StreamAsync(async ct =>
        {
            var bench = run.PgbenchAsync(12, ct);
            for (var cut = 0; cut < 3; cut++)
            {
                // Each cut once the stream applies again after the one before, and each noticed by the stream.
                await run.WaitForAppliedAsync(ct);
                var retries = run.Logged(SourceRetry);
                Assert.True(run.SourceProxy.Cut() > 0, "The cut found no source connection to close.");
                await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(run.Logged(SourceRetry) > retries));
            }

            (await bench).EnsureExited();
        });

        await run.AssertEqualAsync(stopped);
        run.AssertLogged(SourceRetry, atLeast: 3);
    }

    [Fact]
    public async Task A_source_connection_dropped_on_Molts_side_only_is_taken_over_from_the_walsender_the_source_still_keeps_and_nothing_is_lost_or_applied_twice()
    {
        // As a NAT or load balancer that forgets the connection: Molt sees it gone at once, while the source keeps its
        // walsender, and so the slot, until wal_sender_timeout (a minute). Starting again must not fail as "slot active".
        await using var run = await FaultRun.CreateAsync(fixture, "drop", output);
        var stopped = await run.StreamAsync(async ct =>
        {
            var bench = run.PgbenchAsync(12, ct);
            await run.WaitForAppliedAsync(ct);
            var retries = run.Logged(SourceRetry);
            Assert.True(run.SourceProxy.DropClientSides() > 0, "The drop found no source connection.");
            await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(run.Logged(StaleReaderEnded) > 0));
            await run.WaitForAppliedAsync(ct);
            (await bench).EnsureExited();
            Assert.True(run.Logged(SourceRetry) > retries);
        });

        await run.AssertEqualAsync(stopped);
        run.AssertLogged(StaleReaderEnded, atLeast: 1);
    }

    [Fact]
    public async Task A_target_connection_reset_mid_batch_is_applied_again_from_the_checkpoint_and_nothing_is_lost_or_applied_twice()
    {
        await using var run = await FaultRun.CreateAsync(fixture, "reset", output);
        var stopped = await run.StreamAsync(async ct =>
        {
            var bench = run.PgbenchAsync(12, ct);
            for (var reset = 0; reset < 3; reset++)
            {
                await run.WaitForAppliedAsync(ct);
                await run.WaitForOpenTargetTransactionAsync(ct);
                Assert.True(run.TargetProxy.Reset() > 0, "The reset found no target connection.");
            }

            (await bench).EnsureExited();
        });

        await run.AssertEqualAsync(stopped);
        run.AssertLogged(ApplyRetry, atLeast: 1);
    }

    [Fact]
    public async Task A_target_stall_longer_than_the_command_timeout_is_detected_and_the_batch_applied_again_once_the_network_is_back()
    {
        // The applier's commands time out (a minute by default; 3 s here, and 3 s to connect), so a target gone silent on
        // an open connection is a lost connection, not a stream hung forever. A stall shorter than the timeout plus
        // Npgsql's cancel request (which waits to connect) goes unnoticed: the held bytes are delivered on resume.
        await using var run = await FaultRun.CreateAsync(fixture, "tgtstall", output, targetOptions: "CommandTimeout=3&Timeout=3");
        DateTimeOffset stalledAt = default, resumedAt = default;
        var stopped = await run.StreamAsync(async ct =>
        {
            // At a bounded rate, so the backlog the stall leaves drains in seconds on a loaded machine.
            var bench = run.PgbenchAsync(16, ct, rate: 300);
            await run.WaitForAppliedAsync(ct);
            await run.WaitForOpenTargetTransactionAsync(ct);
            run.TargetProxy.Stall();
            stalledAt = DateTimeOffset.Now;
            await Task.Delay(TimeSpan.FromSeconds(10), ct);
            resumedAt = DateTimeOffset.Now;
            run.TargetProxy.Resume();
            await run.WaitForAppliedAsync(ct);
            (await bench).EnsureExited();
        });

        await run.AssertEqualAsync(stopped);
        // Noticed while the network was still silent: the stall was detected, not merely outlasted.
        Assert.Contains(run.AssertLogged(ApplyRetry, atLeast: 1), e => e.Timestamp > stalledAt && e.Timestamp < resumedAt);
    }

    [Fact]
    public async Task A_target_server_restarted_mid_stream_is_written_again_once_it_is_back_and_nothing_is_lost_or_applied_twice()
    {
        await using var run = await FaultRun.CreateAsync(fixture, "tgtrst", output);
        var stopped = await run.StreamAsync(async ct =>
        {
            var bench = run.PgbenchAsync(12, ct);
            await run.WaitForAppliedAsync(ct);
            await fixture.Target.RestartAsync(ct);
            await run.WaitForAppliedAsync(ct);
            (await bench).EnsureExited();
        });

        await run.AssertEqualAsync(stopped);
        run.AssertLogged(ApplyRetry, atLeast: 1);
    }

    [Fact]
    public async Task A_source_server_restarted_mid_stream_keeps_the_slot_and_the_stream_reconnects_with_backoff_losing_nothing()
    {
        await using var run = await FaultRun.CreateAsync(fixture, "srcrst", output);
        var stopped = await run.StreamAsync(async ct =>
        {
            // pgbench's own sessions die with the server: what they committed stands, what they had open is rolled back.
            var before = run.PgbenchAsync(15, ct);
            await run.WaitForAppliedAsync(ct);
            await fixture.Source.RestartAsync(ct);
            await before;
            Assert.Equal(1L, await fixture.Source.ScalarAsync<long>(run.SourceDb, $"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'molt_{run.FetchId}'", ct));
            var after = run.PgbenchAsync(4, ct);
            await run.WaitForAppliedAsync(ct);
            (await after).EnsureExited();
        });

        await run.AssertEqualAsync(stopped);
        run.AssertLogged(SourceRetry, atLeast: 1);
    }
}

/// <summary>One stream of a fault test: a pgbench source database and its target, each reached through a proxy.</summary>
internal sealed class FaultRun : IAsyncDisposable
{
    private readonly RecordedLog log;
    private readonly ITestOutputHelper output;

    private readonly string? targetOptions;

    private FaultRun(FaultServersFixture servers, string name, ITestOutputHelper output, string? targetOptions)
    {
        this.output = output;
        log = new RecordedLog(output);
        this.targetOptions = targetOptions;
        Servers = servers;
        FetchId = $"{name}{Guid.NewGuid():N}"[..16];
        SourceDb = $"src_{FetchId}";
        TargetDb = $"dst_{FetchId}";
        SourceProxy = TcpFaultProxy.Start(servers.Source.Host, servers.Source.Port);
        TargetProxy = TcpFaultProxy.Start(servers.Target.Host, servers.Target.Port);
    }

    public FaultServersFixture Servers { get; }

    public string FetchId { get; }

    public string SourceDb { get; }

    public string TargetDb { get; }

    public TcpFaultProxy SourceProxy { get; }

    public TcpFaultProxy TargetProxy { get; }

    /// <summary>The source as the session reaches it: through <see cref="SourceProxy"/>.</summary>
    public EndpointAddress SourceAddress => SessionTestSupport.Through(Servers.Source.ConnectionUri(SourceDb), SourceProxy);

    public EndpointAddress TargetAddress => SessionTestSupport.Through(Servers.Target.ConnectionUri(TargetDb), TargetProxy, targetOptions);

    /// <summary>The target as another session (Stop-MoltReplication) reaches it: directly.</summary>
    public EndpointAddress DirectTargetAddress => EndpointAddress.Parse(Servers.Target.ConnectionUri(TargetDb));

    /// <param name="targetOptions">More URI query options of the session's target (Npgsql keywords).</param>
    public static async Task<FaultRun> CreateAsync(FaultServersFixture servers, string name, ITestOutputHelper output, string? targetOptions = null)
    {
        var run = new FaultRun(servers, name, output, targetOptions);
        await servers.Source.CreateDatabaseAsync(run.SourceDb);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        (await ReplicationUnderPgbenchTests.RunPgbenchAsync(servers.Source, run.SourceDb, ["-i", "-s", "1", "-q"], timeout.Token)).EnsureExited();
        // Every table needs a key to be replicated; the default fills it for pgbench's own inserts.
        await servers.Source.ExecuteAsync(run.SourceDb, """ALTER TABLE "pgbench_history" ADD COLUMN "id" bigserial PRIMARY KEY""");
        await servers.Target.CreateDatabaseAsync(run.TargetDb);
        return run;
    }

    /// <summary>
    /// Loads and starts streaming through the proxies, runs <paramref name="scenario"/> (writes and faults) once the stream
    /// streams, then asks for a stop at the source's end from another session and returns the final status.
    /// </summary>
    public async Task<ReplicationStatus> StreamAsync(Func<CancellationToken, Task> scenario, ReplicationOptions? options = null)
    {
        options ??= new ReplicationOptions
        {
            FetchId = FetchId,
            Load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate },
            StatusInterval = TimeSpan.FromMilliseconds(500),
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(100));
        var stopped = await SessionTestSupport.StreamUnderFaultsAsync(SourceAddress, TargetAddress, DirectTargetAddress, options, log, output, scenario, timeout.Token);
        await ReplicationControl.RemoveAsync(EndpointAddress.Parse(Servers.Source.ConnectionUri(SourceDb)), DirectTargetAddress, FetchId, null, null, timeout.Token);
        return stopped;
    }

    /// <param name="rate">Transactions per second at most (pgbench -R); unbounded when null.</param>
    public Task<ReplicationUnderPgbenchTests.PgbenchResult> PgbenchAsync(int seconds, CancellationToken ct, int? rate = null) =>
        ReplicationUnderPgbenchTests.RunPgbenchAsync(Servers.Source, SourceDb,
            ["-c", "2", "-j", "2", "-T", $"{seconds}", "-n", .. rate is { } r ? (string[])["-R", $"{r}"] : []], ct);

    /// <summary>Until the target holds more pgbench history than now: the stream is applying again.</summary>
    public async Task WaitForAppliedAsync(CancellationToken ct)
    {
        var before = await TargetHistoryAsync(ct);
        await SessionTestSupport.WaitUntilAsync(async () => await TargetHistoryAsync(ct) > before);
    }

    /// <summary>Until the applier has a target transaction open that has written rows: a batch under way.</summary>
    public Task WaitForOpenTargetTransactionAsync(CancellationToken ct) =>
        SessionTestSupport.WaitUntilAsync(async () => await Servers.Target.ScalarAsync<long>("postgres", $"""
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = '{TargetDb}' AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
            """, ct) > 0);

    public async Task AssertEqualAsync(ReplicationStatus stopped)
    {
        foreach (var check in ReplicationUnderPgbenchTests.Checks)
        {
            Assert.Equal((check, await Servers.Source.ScalarAsync<string>(SourceDb, check)), (check, await Servers.Target.ScalarAsync<string>(TargetDb, check)));
        }

        Assert.Equal(0L, await Servers.Target.ScalarAsync<long>(TargetDb, """SELECT count(*) - count(DISTINCT "id") FROM "pgbench_history" """));
        Assert.True(stopped.Changes > 0, "Nothing was streamed.");
        Assert.True(stopped.Retries > 0, "The final status counts no retry.");
        output.WriteLine($"streamed {stopped.Transactions} transactions, {stopped.Changes} changes, {stopped.Retries} retries; source proxy: {SourceProxy.ConnectionsAccepted} connections " +
                         $"({SourceProxy.ConnectionsRefused} refused), target proxy: {TargetProxy.ConnectionsAccepted} ({TargetProxy.ConnectionsRefused} refused)");
    }

    /// <summary>Warnings logged so far that say <paramref name="text"/>.</summary>
    public int Logged(string text) => log.Logged(text);

    public IReadOnlyList<MoltLogEvent> AssertLogged(string text, int atLeast) => log.AssertLogged(text, atLeast);

    public async ValueTask DisposeAsync()
    {
        log.WriteToOutput();
        await SourceProxy.DisposeAsync();
        await TargetProxy.DisposeAsync();
    }

    private Task<long> TargetHistoryAsync(CancellationToken ct) =>
        Servers.Target.ScalarAsync<long>(TargetDb, """SELECT count(*) FROM "pgbench_history" """, ct);
}
