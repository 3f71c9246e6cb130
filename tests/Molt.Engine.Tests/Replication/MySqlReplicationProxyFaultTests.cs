using System.Globalization;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Sessions;
using Molt.Testing;
using MySqlConnector;
using Xunit.Abstractions;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// A MariaDB source streamed under the tests' own writers while the network or the target fails under it: the session
/// reaches the source (the binlog connection and the control connections alike) and the target through a
/// <see cref="TcpFaultProxy"/> each, which cuts, resets or stalls them; or the target server is restarted. The stream
/// must retry (the log and the final status say so), and after a stop at the source's end every count, sum and digest
/// must be equal on both sides, with each history row once: nothing lost, nothing applied twice.
/// </summary>
[Collection(MySqlReplicationCollection.Name)]
public sealed class MySqlReplicationProxyFaultTests(MySqlReplicationFixture fixture, ITestOutputHelper output)
{
    private const string SourceRetry = "The source stream failed; starting it again";
    private const string ApplyRetry = "Applying the batch again";

    [Fact]
    public async Task A_binlog_connection_cut_several_times_mid_stream_is_reconnected_each_time_and_nothing_is_lost_or_applied_twice()
    {
        await using var run = await MySqlFaultRun.CreateAsync(fixture, "mcut", output);
        var stopped = await run.StreamAsync(async ct =>
        {
            for (var cut = 0; cut < 3; cut++)
            {
                // Each cut once the stream applies again after the one before, and each noticed by the stream.
                await run.WaitForAppliedAsync(ct);
                var retries = run.Log.Logged(SourceRetry);
                Assert.True(run.SourceProxy.Cut() > 0, "The cut found no source connection to close.");
                await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(run.Log.Logged(SourceRetry) > retries));
            }

            await run.WaitForAppliedAsync(ct);
        });

        await run.AssertEqualAsync(stopped);
        run.Log.AssertLogged(SourceRetry, atLeast: 3);
    }

    [Fact]
    public async Task A_binlog_connection_reset_inside_a_source_transaction_is_read_again_from_the_checkpoint_and_nothing_is_lost_or_applied_twice()
    {
        await using var run = await MySqlFaultRun.CreateAsync(fixture, "mreset", output);
        var stopped = await run.StreamAsync(async ct =>
        {
            for (var reset = 0; reset < 3; reset++)
            {
                await run.WaitForAppliedAsync(ct);
                var retries = run.Log.Logged(SourceRetry);
                // A transaction of a thousand row events, so the reset lands while its events are still arriving.
                await run.LargeTransactionAsync(reset, ct);
                Assert.True(run.SourceProxy.Reset() > 0, "The reset found no source connection.");
                await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(run.Log.Logged(SourceRetry) > retries));
            }

            await run.WaitForAppliedAsync(ct);
        });

        await run.AssertEqualAsync(stopped);
        run.Log.AssertLogged(SourceRetry, atLeast: 3);
    }

    [Fact]
    public async Task A_binlog_connection_lost_on_molts_side_only_is_replaced_while_the_source_still_holds_the_old_dump_and_nothing_is_lost_or_applied_twice()
    {
        // A NAT or load balancer that forgot the connection: the source's dump thread lives on until its own write
        // timeout, still registered as a replica; the new connection must register beside it and stream from the checkpoint.
        await using var run = await MySqlFaultRun.CreateAsync(fixture, "mdrop", output);
        var stopped = await run.StreamAsync(async ct =>
        {
            await run.WaitForAppliedAsync(ct);
            var retries = run.Log.Logged(SourceRetry);
            Assert.True(run.SourceProxy.DropClientSides() > 0, "The drop found no source connection.");
            await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(run.Log.Logged(SourceRetry) > retries));
            await run.WaitForAppliedAsync(ct);
        });

        await run.AssertEqualAsync(stopped);
        run.Log.AssertLogged(SourceRetry, atLeast: 1);
    }

    [Fact]
    public async Task A_target_connection_reset_mid_batch_is_applied_again_from_the_checkpoint_and_nothing_is_lost_or_applied_twice()
    {
        await using var run = await MySqlFaultRun.CreateAsync(fixture, "mtreset", output);
        var stopped = await run.StreamAsync(async ct =>
        {
            for (var reset = 0; reset < 3; reset++)
            {
                await run.WaitForAppliedAsync(ct);
                await run.WaitForOpenTargetTransactionAsync(ct);
                Assert.True(run.TargetProxy.Reset() > 0, "The reset found no target connection.");
            }

            await run.WaitForAppliedAsync(ct);
        });

        await run.AssertEqualAsync(stopped);
        run.Log.AssertLogged(ApplyRetry, atLeast: 1);
    }

    [Fact]
    public async Task A_source_stall_longer_than_the_heartbeat_timeout_is_detected_while_silent_and_the_stream_reconnects_once_the_network_is_back()
    {
        // The binlog client asks for a heartbeat every 2 s and calls a connection silent for 11 s dead, and the loop waits at
        // most 5 s at a time for the source's current end: a stall of 30 s must be noticed while it lasts, not merely
        // outlasted when the held bytes are delivered.
        await using var run = await MySqlFaultRun.CreateAsync(fixture, "mstall", output);
        DateTimeOffset stalledAt = default, resumedAt = default;
        var stopped = await run.StreamAsync(async ct =>
        {
            await run.WaitForAppliedAsync(ct);
            run.SourceProxy.Stall();
            stalledAt = DateTimeOffset.Now;
            await Task.Delay(TimeSpan.FromSeconds(30), ct);
            resumedAt = DateTimeOffset.Now;
            run.SourceProxy.Resume();
            await run.WaitForAppliedAsync(ct);
        });

        await run.AssertEqualAsync(stopped);
        Assert.Contains(run.Log.AssertLogged(SourceRetry, atLeast: 1), e => e.Timestamp > stalledAt && e.Timestamp < resumedAt);
    }

    [Fact]
    public async Task A_target_server_restarted_mid_stream_from_a_mariadb_source_is_written_again_once_it_is_back_and_nothing_is_lost_or_applied_twice()
    {
        await using var run = await MySqlFaultRun.CreateAsync(fixture, "mtrst", output);
        var stopped = await run.StreamAsync(async ct =>
        {
            await run.WaitForAppliedAsync(ct);
            await fixture.Target.RestartAsync(ct);
            await run.WaitForAppliedAsync(ct);
        });

        await run.AssertEqualAsync(stopped);
        run.Log.AssertLogged(ApplyRetry, atLeast: 1);
    }

    [Fact]
    public async Task A_binlog_purged_under_a_running_stream_fails_it_naming_the_position_and_nothing_after_the_checkpoint_is_skipped()
    {
        // The stream cut off (a stalled network), its dump thread ended, and the binlog it still needs purged meanwhile:
        // when it reconnects it must stop with the purge's error, never carry on from whatever the source still has.
        await using var run = await MySqlFaultRun.CreateAsync(fixture, "mpurge", output);
        var error = await run.StreamUntilFailedAsync(async ct =>
        {
            await run.WaitForAppliedAsync(ct);
            run.SourceProxy.Stall();
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            await run.EndBinlogDumpsAsync(ct);
            await fixture.Source.ExecuteAsync("", "FLUSH BINARY LOGS", ct);
            await MySqlReplicationChangesTests.PurgeToCurrentAsync(fixture);
            run.SourceProxy.Resume();
        });

        Assert.Equal("BinlogPositionPurged", error.ErrorId);
        var status = Assert.Single(await ReplicationControl.ReadStatusAsync(run.TargetAddress, run.FetchId, CancellationToken.None));
        Assert.Equal(ReplicationState.Failed, status.State);
        Assert.Contains(status.Checkpoint!.Position.ToString(), error.Message);
        // Nothing after the checkpoint was applied: the target stays behind the source, and a resume refuses the same way.
        Assert.True(await run.TargetHistoryAsync() < await run.SourceHistoryCountAsync(), "The target caught up across the purged binlog.");
        var again = await Assert.ThrowsAsync<MoltException>(() => run.ResumeToEndAsync(CancellationToken.None));
        Assert.Equal("BinlogPositionPurged", again.ErrorId);
    }
}

/// <summary>
/// One stream of a MariaDB fault test: a source database under two writers of the test's own (straight to the server)
/// and its target, the session reaching each through a proxy.
/// </summary>
internal sealed class MySqlFaultRun : IAsyncDisposable
{
    private const string Schema = """
        CREATE TABLE accounts (id INT PRIMARY KEY, writer INT NOT NULL, balance BIGINT NOT NULL, note VARCHAR(200));
        CREATE TABLE history (id BIGINT AUTO_INCREMENT PRIMARY KEY, writer INT NOT NULL, seq INT NOT NULL, amount BIGINT NOT NULL);
        CREATE TABLE journal (writer INT NOT NULL, seq INT NOT NULL, amount BIGINT NOT NULL);
        INSERT INTO accounts SELECT seq, 0, seq * 10, repeat('seed ', 20) FROM seq_1_to_500;
        """;

    private readonly MySqlReplicationFixture fixture;
    private readonly MySqlStreamCase test;
    private readonly ITestOutputHelper output;
    private readonly string fetchId;

    private MySqlFaultRun(MySqlReplicationFixture fixture, MySqlStreamCase test, string name, ITestOutputHelper output)
    {
        this.fixture = fixture;
        this.test = test;
        this.output = output;
        fetchId = $"{name}{Guid.NewGuid():N}"[..16];
        Log = new RecordedLog(output);
        SourceProxy = TcpFaultProxy.Start(fixture.Source.Host, fixture.Source.Port);
        TargetProxy = TcpFaultProxy.Start(fixture.Target.Host, fixture.Target.Port);
    }

    public RecordedLog Log { get; }

    public TcpFaultProxy SourceProxy { get; }

    public TcpFaultProxy TargetProxy { get; }

    public static async Task<MySqlFaultRun> CreateAsync(MySqlReplicationFixture fixture, string name, ITestOutputHelper output) =>
        new(fixture, await fixture.NewCaseAsync(name, Schema), name, output);

    /// <summary>Streams through the proxies with two writers on the source from before the load until the scenario ends; then stops at the source's end.</summary>
    public async Task<ReplicationStatus> StreamAsync(Func<CancellationToken, Task> scenario)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        using var stopWriting = new CancellationTokenSource();
        var writers = new[] { WriteAsync(1, stopWriting.Token), WriteAsync(2, stopWriting.Token) };
        try
        {
            var options = MySqlStreamCase.Options(fetchId) with { StatusInterval = TimeSpan.FromMilliseconds(500) };
            return await SessionTestSupport.StreamUnderFaultsAsync(SessionTestSupport.Through(test.SourceUri, SourceProxy),
                SessionTestSupport.Through(test.TargetUri, TargetProxy), test.TargetAddress, options, Log, output, async ct =>
                {
                    await scenario(ct);
                    await stopWriting.CancelAsync();
                    Assert.All(await Task.WhenAll(writers), n => Assert.True(n > 10, $"A writer committed only {n} transactions."));
                }, timeout.Token);
        }
        finally
        {
            await stopWriting.CancelAsync();
            await Task.WhenAll(writers).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    public string FetchId => fetchId;

    public EndpointAddress TargetAddress => test.TargetAddress;

    /// <summary>Streams through the proxies under the writers until the stream fails, which the scenario must make it do; returns its error.</summary>
    public async Task<MoltException> StreamUntilFailedAsync(Func<CancellationToken, Task> scenario)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        using var stopWriting = new CancellationTokenSource();
        var writers = new[] { WriteAsync(1, stopWriting.Token), WriteAsync(2, stopWriting.Token) };
        try
        {
            var options = MySqlStreamCase.Options(fetchId) with { StatusInterval = TimeSpan.FromMilliseconds(500) };
            using var logSession = new MoltLogSession(Log.Record, minimumLevel: MoltLogLevel.Debug);
            await using var session = await ReplicationSession.OpenAsync(SessionTestSupport.Through(test.SourceUri, SourceProxy),
                SessionTestSupport.Through(test.TargetUri, TargetProxy), options, logSession, timeout.Token);
            var states = new List<ReplicationState>();
            var running = session.StartAsync(await session.PlanAsync(timeout.Token), new BulkLoadCallbacks(), _ => { }, new StateReports(states), timeout.Token);
            await SessionTestSupport.WaitUntilAsync(() =>
            {
                lock (states)
                {
                    return Task.FromResult(states.Contains(ReplicationState.Streaming) || running.IsCompleted);
                }
            });
            await scenario(timeout.Token);
            return await Assert.ThrowsAsync<MoltException>(() => running);
        }
        finally
        {
            await stopWriting.CancelAsync();
            await Task.WhenAll(writers).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Ends every binlog dump thread on the source, as its own timeout would end one whose replica went silent.</summary>
    public async Task EndBinlogDumpsAsync(CancellationToken ct)
    {
        await using var connection = new MySqlConnection(fixture.Source.ConnectionString());
        await connection.OpenAsync(ct);
        var dumps = new List<long>();
        await using (var list = new MySqlCommand("SELECT id FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'", connection))
        await using (var reader = await list.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                dumps.Add(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
            }
        }

        Assert.NotEmpty(dumps);
        foreach (var id in dumps)
        {
            await using var kill = new MySqlCommand(FormattableString.Invariant($"KILL {id}"), connection);
            await kill.ExecuteNonQueryAsync(ct);
        }
    }

    public Task<ReplicationStatus> ResumeToEndAsync(CancellationToken ct) => test.ResumeToEndAsync(MySqlStreamCase.Options(fetchId), ct);

    public Task<long> SourceHistoryCountAsync() => test.SourceScalarAsync<long>("SELECT count(*) FROM history");

    /// <summary>Until the target holds more history than now: the stream is applying again.</summary>
    public async Task WaitForAppliedAsync(CancellationToken ct)
    {
        var before = await TargetHistoryAsync();
        await SessionTestSupport.WaitUntilAsync(async () => await TargetHistoryAsync() > before);
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>Until the applier has a target transaction open that has written rows: a batch under way.</summary>
    public Task WaitForOpenTargetTransactionAsync(CancellationToken ct) =>
        SessionTestSupport.WaitUntilAsync(async () => await fixture.Target.ScalarAsync<long>("postgres", $"""
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = '{test.TargetDatabase}' AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
            """, ct) > 0);

    /// <summary>One source transaction of a thousand single-row updates (a row event each) and a history row, committed at once.</summary>
    public async Task LargeTransactionAsync(int round, CancellationToken ct)
    {
        var updates = string.Concat(Enumerable.Range(1, 1000).Select(i => FormattableString.Invariant(
            $"UPDATE accounts SET balance = balance + 1, note = 'large {round}' WHERE id = {(i % 500) + 1}; ")));
        await test.SourceAsync($"START TRANSACTION; {updates}INSERT INTO history (writer, seq, amount) VALUES (0, {round}, 0); " +
                               $"INSERT INTO journal VALUES (0, {round}, 0); COMMIT;");
        ct.ThrowIfCancellationRequested();
    }

    public async Task AssertEqualAsync(ReplicationStatus stopped)
    {
        // Each row's md5, summed: a digest of every value that needs no aggregate of the whole table's text (which
        // group_concat_max_len would cut short).
        Assert.Equal(
            await test.SourceScalarAsync<string>($"SELECT concat(count(*), ' ', sum(balance), ' ', {SourceRowHash("id, writer, balance, note")}) FROM accounts"),
            await test.TargetScalarAsync<string>($"SELECT concat_ws(' ', count(*), sum(balance), {TargetRowHash("id, writer, balance, note")}) FROM accounts"));
        Assert.Equal(
            await test.SourceScalarAsync<string>(
                $"SELECT concat(count(*), ' ', count(DISTINCT writer, seq), ' ', sum(amount), ' ', {SourceRowHash("id, writer, seq, amount")}) FROM history"),
            await test.TargetScalarAsync<string>(
                $"SELECT concat_ws(' ', count(*), count(DISTINCT (writer, seq)), sum(amount), {TargetRowHash("id, writer, seq, amount")}) FROM history"));
        // The journal has no key, so a change applied twice there is a row twice.
        Assert.Equal(
            await test.SourceScalarAsync<string>("SELECT concat(count(*), ' ', count(DISTINCT writer, seq), ' ', sum(amount)) FROM journal"),
            await test.TargetScalarAsync<string>("SELECT concat_ws(' ', count(*), count(DISTINCT (writer, seq)), sum(amount)) FROM journal"));
        Assert.Equal(0L, await test.TargetScalarAsync<long>("SELECT count(*) FROM (SELECT writer, seq FROM journal GROUP BY writer, seq HAVING count(*) > 1) d"));
        Assert.True(await test.SourceScalarAsync<long>("SELECT count(*) FROM accounts WHERE id >= 1000000") > 0, "No key change was written.");
        Assert.True(stopped.Changes > 0, "Nothing was streamed.");
        Assert.True(stopped.Retries > 0, "The final status counts no retry.");
        output.WriteLine($"streamed {stopped.Transactions} transactions, {stopped.Changes} changes, {stopped.Retries} retries; source proxy: {SourceProxy.ConnectionsAccepted} connections " +
                         $"({SourceProxy.ConnectionsRefused} refused), target proxy: {TargetProxy.ConnectionsAccepted} ({TargetProxy.ConnectionsRefused} refused)");
    }

    private static string SourceRowHash(string columns) => $"sum(CAST(conv(left(md5(concat_ws(',', {columns})), 8), 16, 10) AS UNSIGNED))";

    private static string TargetRowHash(string columns) => $"sum(('x' || left(md5(concat_ws(',', {columns})), 8))::bit(32)::bigint)";

    public async ValueTask DisposeAsync()
    {
        Log.WriteToOutput();
        await SourceProxy.DisposeAsync();
        await TargetProxy.DisposeAsync();
    }

    /// <summary>
    /// One writer's own connection, straight to the source: inserts, updates, deletes and primary key changes on its own
    /// accounts, and a history and journal row each transaction, until told to stop; returns how many it committed.
    /// </summary>
    private async Task<int> WriteAsync(int writer, CancellationToken stop)
    {
        await using var connection = new MySqlConnection(fixture.Source.ConnectionString(test.SourceDatabase));
        await connection.OpenAsync(CancellationToken.None);
        var committed = 0;
        var random = new Random(writer);
        while (!stop.IsCancellationRequested)
        {
            var seq = committed + 1;
            var id = writer * 100_000 + seq;
            var sql = new System.Text.StringBuilder();
            sql.Append(CultureInfo.InvariantCulture, $"START TRANSACTION; INSERT INTO accounts VALUES ({id}, {writer}, {seq}, 'w{writer} #{seq}'); ");
            sql.Append(CultureInfo.InvariantCulture,
                $"UPDATE accounts SET balance = balance + {random.Next(1, 100)}, note = concat(left(note, 150), '+') WHERE id = {writer * 100_000 + random.Next(1, seq + 1)}; ");
            sql.Append(CultureInfo.InvariantCulture, $"INSERT INTO history (writer, seq, amount) VALUES ({writer}, {seq}, {random.Next(-50, 50)}); ");
            sql.Append(CultureInfo.InvariantCulture, $"INSERT INTO journal VALUES ({writer}, {seq}, {random.Next(-50, 50)}); ");
            if (seq % 5 == 0)
            {
                sql.Append(CultureInfo.InvariantCulture, $"DELETE FROM accounts WHERE id = {id - 3}; ");
            }

            if (seq % 7 == 0)
            {
                // A primary key change: the row moves out of the writer's range of new ids.
                sql.Append(CultureInfo.InvariantCulture, $"UPDATE accounts SET id = id + 1000000 WHERE id = {id - 1}; ");
            }

            await using var command = new MySqlCommand(sql.Append("COMMIT;").ToString(), connection);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
            committed++;
            // About a hundred transactions a second each at most: a backlog a stall leaves drains in seconds.
            await Task.Delay(10, CancellationToken.None);
        }

        return committed;
    }

    public Task<long> TargetHistoryAsync() => test.TargetScalarAsync<long>("SELECT count(*) FROM history");
}
