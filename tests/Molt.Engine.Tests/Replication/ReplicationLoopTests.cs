using Molt.Engine.Replication;
using Molt.Engine.State;
using static Molt.Engine.Tests.Replication.Apply;

namespace Molt.Engine.Tests.Replication;

/// <summary>The replication loop over a real PostgreSQL target: crash points, retries, stops, claims, idle sources.</summary>
[Collection(ApplyTargetCollection.Name)]
public sealed class ReplicationLoopTests(ApplyTargetFixture fixture)
{
    // Keyless on purpose: an insert applied twice shows as a second row.
    private static readonly Molt.Engine.Schema.TablePlan Events = Plan("public", "events", [], ("n", "integer"), ("note", "text"));

    private const string EventsDdl = "CREATE TABLE events (n integer, note text)";

    private static ChangeTable EventsTable { get; } = Table(Events, full: true);

    private static PostgresLsn CommitEvents(FakeChangeSource source, int from, int count) =>
        source.Commit(Enumerable.Range(from, count).Select(n => (Change)Insert(EventsTable, n.ToString(System.Globalization.CultureInfo.InvariantCulture), $"event {n}")).ToArray());

    private static async Task<long> CountAsync(ApplyTarget target) => await target.ScalarAsync<long>("SELECT count(*) FROM events");

    private static async Task<long> DistinctAsync(ApplyTarget target) => await target.ScalarAsync<long>("SELECT count(DISTINCT n) FROM events");

    [Fact]
    public async Task A_crash_between_the_target_commit_and_the_source_confirm_applies_nothing_twice_on_resume()
    {
        await using var target = await fixture.NewTargetAsync("loop_crash", EventsDdl);
        // The slot sends again from its confirmed position, whatever the loop asks: the loop's checkpoint must decide.
        var source = new FakeChangeSource { HonorsStart = false };
        for (var i = 0; i < 5; i++)
        {
            CommitEvents(source, i * 10, 10);
        }

        var crashed = false;
        source.OnConfirm = _ =>
        {
            if (!crashed)
            {
                crashed = true;
                throw new InvalidOperationException("process killed between commit and confirm");
            }
        };
        // Grouped by rows alone: on a loaded machine the first target transaction can take longer to open than the 250 ms bound.
        var grouped = new ReplicationOptions { Batch = ApplyBatchLimits.Default with { MaxRows = 20, MaxDelay = TimeSpan.FromMinutes(1) } };
        await Assert.ThrowsAsync<InvalidOperationException>(() => target.RunAsync(source, [Events], grouped));
        Assert.Equal(20, await CountAsync(target));
        Assert.Equal(new PostgresLsn(0x1000), source.Confirmed);

        var last = CommitEvents(source, 50, 10);
        var final = await target.RunAsync(source, [Events], grouped with { StopAt = last.ToString() });

        Assert.Equal(60, await CountAsync(target));
        Assert.Equal(60, await DistinctAsync(target));
        Assert.Equal(6, final.Transactions);
        Assert.Equal(last, source.Confirmed);
    }

    [Fact]
    public async Task A_transaction_read_ahead_while_the_loop_asks_whether_the_source_is_idle_is_not_confirmed_before_the_target_has_it()
    {
        await using var target = await fixture.NewTargetAsync("loop_idle_race", EventsDdl);
        var source = new FakeChangeSource();
        var first = CommitEvents(source, 0, 10);
        var second = new PostgresLsn(first.Value + 0x100);
        var early = new List<string>();
        var armed = 0;
        source.OnConfirm = lsn =>
        {
            // The fake source's end is its last commit, so a confirm past the target's checkpoint releases a transaction not applied.
            var checkpoint = PostgresLsn.Parse(target.ScalarAsync<string>("SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'f1'").GetAwaiter().GetResult()!);
            if (lsn.Value > checkpoint.Value)
            {
                early.Add($"{lsn} confirmed with the checkpoint at {checkpoint}");
            }

            if (lsn == first)
            {
                armed = 1;
            }
        };
        // The loop's thread stops in its next look at idleness (preempted, on a loaded machine) while the read-ahead takes a
        // whole new transaction from the source, which is idle again when the look goes on.
        source.OnIdleRead = () =>
        {
            if (Interlocked.Exchange(ref armed, 0) == 1)
            {
                Assert.Equal(second, CommitEvents(source, 10, 10));
                Assert.True(SpinWait.SpinUntil(() => source.Delivered == second, TimeSpan.FromSeconds(30)), "the read-ahead took the second transaction");
            }
        };

        var final = await target.RunAsync(source, [Events], new ReplicationOptions { StopAt = second.ToString() });

        Assert.Empty(early);
        Assert.Equal(20, await CountAsync(target));
        Assert.Equal(second, final.SourcePosition);
        Assert.Equal(second, source.Confirmed);
    }

    [Fact]
    public async Task A_serialization_failure_raised_by_the_target_rolls_back_and_applies_the_same_batch_again()
    {
        await using var target = await fixture.NewTargetAsync("loop_40001", EventsDdl + """
            ;
            CREATE SEQUENCE attempts;
            -- nextval is not rolled back with the aborted transaction: the 3rd row written fails once, then never again.
            CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('attempts') = 3 THEN
                    RAISE EXCEPTION 'injected conflict' USING ERRCODE = 'serialization_failure';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER fail_once BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail_once();
            """);
        var source = new FakeChangeSource();
        CommitEvents(source, 0, 2);
        var last = CommitEvents(source, 2, 3);

        var final = await target.RunAsync(source, [Events], new ReplicationOptions { StopAt = last.ToString() });

        Assert.Equal(5, await CountAsync(target));
        Assert.Equal(5, await DistinctAsync(target));
        Assert.True(await target.ScalarAsync<long>("SELECT last_value FROM attempts") > 5);
        Assert.Equal((2L, 5L), (final.Transactions, final.Inserts));
    }

    [Fact]
    public async Task A_source_transaction_larger_than_the_batch_is_spilled_to_disk_and_replayed_from_it_after_a_conflict()
    {
        const int rows = 20_000;
        await using var target = await fixture.NewTargetAsync("loop_spill", EventsDdl + $"""
            ;
            CREATE SEQUENCE attempts;
            CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('attempts') = {rows - 5} THEN
                    RAISE EXCEPTION 'injected conflict' USING ERRCODE = 'serialization_failure';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER fail_once BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail_once();
            """);
        var source = new FakeChangeSource();
        var last = CommitEvents(source, 0, rows);
        var spills = Directory.GetFiles(Path.GetTempPath(), "molt-batch-*.spill").Length;
        var options = new ReplicationOptions { StopAt = last.ToString(), Batch = new ApplyBatchLimits(500, 64 * 1024, TimeSpan.FromSeconds(1)) };

        var final = await target.RunAsync(source, [Events], options);

        Assert.Equal(rows, await CountAsync(target));
        Assert.Equal(rows, await DistinctAsync(target));
        Assert.Equal(rows, final.Inserts);
        Assert.True(await target.ScalarAsync<long>("SELECT last_value FROM attempts") > rows);
        // The spill file is gone once the batch committed.
        Assert.Equal(spills, Directory.GetFiles(Path.GetTempPath(), "molt-batch-*.spill").Length);
    }

    [Fact]
    public async Task A_stop_request_at_a_position_drains_exactly_to_it_and_reports_the_targets_own_position()
    {
        await using var target = await fixture.NewTargetAsync("loop_stop", EventsDdl);
        var source = new FakeChangeSource();
        var positions = Enumerable.Range(0, 5).Select(i => CommitEvents(source, i * 10, 10)).ToList();
        // Between the 3rd and 4th commits: the 4th lies past it, though a grouped batch would have taken it.
        var stopAt = new PostgresLsn(positions[2].Value + 1);
        await new ReplicationStateStore(target.DataSource).EnsureSchemaAsync(default);
        await new ReplicationStateStore(target.DataSource).RequestStopAsync(new StopRow("f1", false, stopAt.Notation, stopAt.ToString(), default), default);
        var statuses = new List<ReplicationStatus>();

        var final = await target.RunAsync(source, [Events], progress: new SynchronousProgress<ReplicationStatus>(statuses.Add));

        Assert.Equal(30, await CountAsync(target));
        Assert.Equal(ReplicationState.Stopped, final.State);
        Assert.Equal(positions[2], final.SourcePosition);
        Assert.Equal(stopAt, final.StopAt);
        var targetLsn = PostgresLsn.Parse((await target.ScalarAsync<string>("SELECT pg_current_wal_lsn()::text"))!);
        Assert.IsType<PostgresLsn>(final.TargetPosition);
        Assert.True(targetLsn.HasReached(final.TargetPosition!));
        Assert.Equal(positions[2], source.Confirmed);
        Assert.Equal(final, statuses[^1]);
        // The request is used up, and the stream's row says where it stopped, held by nobody.
        Assert.Equal(0, await target.ScalarAsync<long>("SELECT count(*) FROM _molt.replication_stops"));
        Assert.Equal($"Stopped|{final.TargetPosition}|", await target.ScalarAsync<string>(
            "SELECT concat_ws('|', state, target_position, coalesce(held_by, '')) FROM _molt.replication_streams WHERE fetch_id = 'f1'"));
    }

    [Fact]
    public async Task An_immediate_stop_request_from_another_session_stops_the_running_stream_at_the_next_commit()
    {
        await using var target = await fixture.NewTargetAsync("loop_stop_now", EventsDdl);
        var source = new FakeChangeSource();
        CommitEvents(source, 0, 10);
        var running = target.RunAsync(source, [Events]);
        await WaitUntilAsync(async () => await CountAsync(target) == 10);

        await new ReplicationStateStore(target.DataSource).RequestStopAsync(new StopRow("f1", true, null, null, default), default);
        var final = await running;

        Assert.Equal(ReplicationState.Stopped, final.State);
        Assert.Equal(10, await CountAsync(target));
    }

    [Fact]
    public async Task A_stop_request_without_a_position_drains_to_the_sources_end_when_it_is_read()
    {
        await using var target = await fixture.NewTargetAsync("loop_stop_end", EventsDdl);
        var source = new FakeChangeSource();
        CommitEvents(source, 0, 10);
        var running = target.RunAsync(source, [Events]);
        await WaitUntilAsync(async () => await CountAsync(target) == 10);
        var last = CommitEvents(source, 10, 10);

        await new ReplicationStateStore(target.DataSource).RequestStopAsync(new StopRow("f1", false, null, null, default), default);
        var final = await running;

        Assert.Equal(20, await CountAsync(target));
        Assert.Equal(last, final.SourcePosition);
    }

    [Fact]
    public async Task A_second_claim_of_a_running_stream_is_refused_naming_who_holds_it()
    {
        await using var target = await fixture.NewTargetAsync("loop_claim", EventsDdl);
        var source = new FakeChangeSource();
        CommitEvents(source, 0, 1);
        var running = target.RunAsync(source, [Events]);
        await WaitUntilAsync(async () => await CountAsync(target) == 1);

        var error = await Assert.ThrowsAsync<MoltException>(() => target.RunAsync(new FakeChangeSource(), [Events]));

        Assert.Equal("ReplicationStreamActive", error.ErrorId);
        Assert.Equal(MoltErrorKind.InUse, error.Kind);
        Assert.Contains($"pid {Environment.ProcessId}", error.Message);
        await new ReplicationStateStore(target.DataSource).RequestStopAsync(new StopRow("f1", true, null, null, default), default);
        await running;
        // Once stopped, the stream can be claimed again.
        await using (await target.Control.ClaimAsync("f1", default))
        {
        }
    }

    [Fact]
    public async Task An_idle_source_is_confirmed_to_its_end_so_it_can_release_its_log()
    {
        await using var target = await fixture.NewTargetAsync("loop_idle", EventsDdl);
        var source = new FakeChangeSource();
        var applied = CommitEvents(source, 0, 1);
        var running = target.RunAsync(source, [Events]);
        await WaitUntilAsync(() => Task.FromResult(source.Confirmed.Value >= applied.Value));

        // Log written for tables outside the stream: nothing arrives, the end moves.
        source.AdvanceEnd(0x10000);
        await WaitUntilAsync(() => Task.FromResult(source.Confirmed == source.End));

        Assert.Equal(applied.ToString(), await target.ScalarAsync<string>("SELECT position FROM _molt.replication_checkpoints"));
        await new ReplicationStateStore(target.DataSource).RequestStopAsync(new StopRow("f1", true, null, null, default), default);
        Assert.Equal(applied, (await running).SourcePosition);
    }

    [Fact]
    public async Task Stop_when_caught_up_drains_to_the_end_seen_when_first_caught_up()
    {
        await using var target = await fixture.NewTargetAsync("loop_caught_up", EventsDdl);
        var source = new FakeChangeSource();
        CommitEvents(source, 0, 5);
        var last = CommitEvents(source, 5, 5);
        var statuses = new List<ReplicationStatus>();

        var final = await target.RunAsync(source, [Events], new ReplicationOptions { StopWhenCaughtUp = true, StatusInterval = TimeSpan.FromMilliseconds(20) },
            progress: new SynchronousProgress<ReplicationStatus>(statuses.Add));

        Assert.Equal(10, await CountAsync(target));
        Assert.Equal(last, final.SourcePosition);
        Assert.Equal(0, final.LagBytes);
        Assert.Equal(ReplicationState.Streaming, statuses[0].State);
        Assert.Equal(ReplicationState.Stopped, final.State);
    }

    [Fact]
    public async Task A_lost_source_connection_starts_the_stream_again_from_the_checkpoint_losing_nothing()
    {
        await using var target = await fixture.NewTargetAsync("loop_source_lost", EventsDdl);
        var source = new FakeChangeSource { FailAfterChanges = 15 };
        CommitEvents(source, 0, 10);
        CommitEvents(source, 10, 10);
        var last = CommitEvents(source, 20, 10);

        var final = await target.RunAsync(source, [Events], new ReplicationOptions { StopAt = last.ToString(), Batch = ApplyBatchLimits.Default with { MaxRows = 10 } });

        Assert.Equal(30, await CountAsync(target));
        Assert.Equal(30, await DistinctAsync(target));
        Assert.Equal(2, source.Starts);
        Assert.Equal(3, final.Transactions);
    }

    [Fact]
    public async Task A_target_connection_killed_mid_batch_is_opened_again_and_the_batch_applied_once()
    {
        await using var target = await fixture.NewTargetAsync("loop_target_lost", EventsDdl + """
            ;
            CREATE SEQUENCE attempts;
            -- The applier's own session is ended under it once, at the 4th row (admin shutdown, then a broken connection).
            CREATE FUNCTION kill_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('attempts') = 4 THEN
                    PERFORM pg_terminate_backend(pg_backend_pid());
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER kill_once BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION kill_once();
            """);
        var source = new FakeChangeSource();
        CommitEvents(source, 0, 3);
        var last = CommitEvents(source, 3, 3);

        var final = await target.RunAsync(source, [Events], new ReplicationOptions { StopAt = last.ToString() });

        Assert.Equal(6, await CountAsync(target));
        Assert.Equal(6, await DistinctAsync(target));
        Assert.Equal(last, final.SourcePosition);
    }

    [Fact]
    public async Task A_cancelled_stream_rolls_back_its_open_batch_keeps_its_checkpoint_and_says_who_held_it_while_it_ran()
    {
        await using var target = await fixture.NewTargetAsync("loop_cancel", EventsDdl);
        var source = new FakeChangeSource();
        CommitEvents(source, 0, 5);
        using var cancel = new CancellationTokenSource();
        // A batch held open for a minute: the transaction is written but not committed when the stream is cancelled.
        var running = target.RunAsync(source, [Events], new ReplicationOptions { Batch = ApplyBatchLimits.Default with { MaxDelay = TimeSpan.FromMinutes(1) } },
            cancellationToken: cancel.Token);
        await WaitUntilAsync(async () => (await target.Control.ReadStatusesAsync("f1", default)) is [{ HeldBy: not null }, ..]);
        var held = Assert.Single(await target.Control.ReadStatusesAsync("f1", default));
        Assert.Contains($"pid {Environment.ProcessId}", held.HeldBy);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);

        Assert.Equal(0, await CountAsync(target));
        Assert.Equal(0, await target.ScalarAsync<long>("SELECT count(*) FROM _molt.replication_checkpoints"));
        var status = Assert.Single(await target.Control.ReadStatusesAsync("f1", default));
        Assert.Equal((ReplicationState.Stopped, (string?)null), (status.State, status.HeldBy));
        Assert.Equal(new PostgresLsn(0x1000), source.Confirmed);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not come true within 30 s.");
            await Task.Delay(20);
        }
    }

    /// <summary>Reports on the reporting thread (Progress&lt;T&gt; posts to the thread pool, and the test would race it).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
