using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// Failback end to end on real servers: a PostgreSQL-to-PostgreSQL migration with replication, the cutover stop, the
/// application's writes on the target, and those writes sent back into the original by Invoke-MoltFailback's session.
/// </summary>
[Collection(ApplyTargetCollection.Name)]
public sealed class FailbackSessionTests(ApplyTargetFixture fixture)
{
    private const string SourceSchema = """
        CREATE SCHEMA bank;
        CREATE TABLE bank.accounts (id int PRIMARY KEY, owner text NOT NULL, balance bigint NOT NULL);
        CREATE TABLE bank.events (id bigint PRIMARY KEY, kind text NOT NULL, at timestamptz NOT NULL DEFAULT now());
        INSERT INTO bank.accounts SELECT g, 'owner ' || g, g * 10 FROM generate_series(1, 500) g;
        INSERT INTO bank.events SELECT g, 'opened', '2024-01-01 00:00:00+00' FROM generate_series(1, 100) g;
        """;

    // A lost or doubled change moves a count or a sum; the digest also catches a change applied to the wrong row.
    private const string Rows = """
        SELECT concat_ws(E'\n',
            (SELECT concat_ws(',', count(*), sum(balance), md5(string_agg(concat_ws(':', id, owner, balance), ';' ORDER BY id))) FROM bank.accounts),
            (SELECT concat_ws(',', count(*), md5(string_agg(concat_ws(':', id, kind, at), ';' ORDER BY id))) FROM bank.events))
        """;

    // The application after the cutover: inserts, updates, a key change, deletes, and a truncate followed by inserts.
    private const string TargetWrites = """
        INSERT INTO bank.accounts SELECT g, 'new ' || g, 1 FROM generate_series(1001, 1040) g;
        UPDATE bank.accounts SET balance = balance + 5 WHERE id BETWEEN 1 AND 20;
        UPDATE bank.accounts SET id = 5000 WHERE id = 30;
        DELETE FROM bank.accounts WHERE id BETWEEN 400 AND 409;
        BEGIN; TRUNCATE bank.events; INSERT INTO bank.events VALUES (1, 'reopened', '2024-02-01 00:00:00+00'), (2, 'reopened', '2024-02-01 00:00:00+00'); COMMIT;
        """;

    [Fact]
    public async Task The_targets_writes_after_the_cutover_are_failed_back_into_the_original_and_nothing_molt_applied_there_is_sent_back()
    {
        await using var migration = await Migration.StartAsync(fixture, "fb_all");
        await migration.WriteOnSourceAsync(
            "UPDATE bank.accounts SET balance = balance + 1 WHERE id <= 100; INSERT INTO bank.accounts SELECT g, 'fwd', 7 FROM generate_series(600, 629) g;");
        var cutover = await migration.CutOverAsync();
        Assert.Equal("moltfb_fb_all", cutover.FailbackSlot);
        Assert.Equal(1, await fixture.Server.ScalarAsync<long>(migration.Target.Database,
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'moltfb_fb_all' AND database = current_database()"));
        Assert.True(cutover.Changes >= 130, $"Forward replication applied {cutover.Changes} changes: the writes during streaming were not streamed.");

        await migration.Target.ExecuteAsync(TargetWrites);
        var final = await migration.FailBackAsync(new FailbackOptions { FetchId = "fb_all", StopWhenCaughtUp = true, StatusInterval = TimeSpan.FromMilliseconds(200) });

        Assert.Equal((ReplicationState.Stopped, ReplicationDirection.Failback), (final.State, final.Direction));
        Assert.Equal(await migration.Target.ScalarAsync<string>(Rows), await fixture.Server.ScalarAsync<string>(migration.SourceDatabase, Rows));
        // Exactly the application's changes: 40 + 2 inserts, 20 updates and the key change, 10 deletes; none of the forward stream's.
        Assert.Equal((42L, 21L, 10L), (final.Inserts, final.Updates, final.Deletes));

        var statuses = await ReplicationControl.ReadStatusAsync(migration.TargetAddress, "fb_all", migration.Timeout.Token);
        Assert.Equal([ReplicationDirection.Forward, ReplicationDirection.Failback], statuses.Select(s => s.Direction));
        Assert.All(statuses, s => Assert.Equal(ReplicationState.Stopped, s.State));
        Assert.Equal(cutover.Changes, statuses[0].Changes);
        Assert.Equal(final.SourcePosition, statuses[1].SourcePosition);

        await ReplicationControl.RemoveAsync(migration.SourceAddress, migration.TargetAddress, "fb_all", null, null, migration.Timeout.Token);
        Assert.Equal(0, await fixture.Server.ScalarAsync<long>("postgres", "SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ('molt_fb_all', 'moltfb_fb_all')"));
    }

    [Fact]
    public async Task Failback_is_refused_while_forward_replication_of_the_same_FetchId_runs_and_forward_is_refused_while_failback_runs()
    {
        await using var migration = await Migration.StartAsync(fixture, "fb_loop");
        var refused = await Assert.ThrowsAsync<MoltException>(() =>
            migration.FailBackAsync(new FailbackOptions { FetchId = "fb_loop", StopWhenCaughtUp = true }));
        Assert.Equal("ReplicationOppositeStreamActive", refused.ErrorId);
        Assert.Contains("Replication 'fb_loop' is running", refused.Message, StringComparison.Ordinal);

        await migration.CutOverAsync();
        await migration.Target.ExecuteAsync("UPDATE bank.accounts SET balance = 0 WHERE id = 1");
        await using var failback = await FailbackSession.OpenAsync(migration.SourceAddress, migration.TargetAddress,
            new FailbackOptions { FetchId = "fb_loop", StatusInterval = TimeSpan.FromMilliseconds(200) }, migration.Log, migration.Timeout.Token);
        var states = new List<ReplicationState>();
        var running = failback.RunAsync(new StateReports(states), migration.Timeout.Token);
        await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(Reported(states, ReplicationState.CaughtUp) || running.IsCompleted));
        Assert.False(running.IsFaulted, running.Exception?.ToString());

        await using (var forward = await ReplicationSession.OpenAsync(migration.SourceAddress, migration.TargetAddress, migration.Options, migration.Log,
            migration.Timeout.Token))
        {
            var loop = await Assert.ThrowsAsync<MoltException>(() => forward.ResumeAsync(null, migration.Timeout.Token));
            Assert.Equal("ReplicationOppositeStreamActive", loop.ErrorId);
            Assert.Contains("Failback 'fb_loop' is running", loop.Message, StringComparison.Ordinal);
        }

        await ReplicationControl.RequestStopAsync(migration.TargetAddress, "fb_loop", immediately: false, ReplicationDirection.Failback, migration.Timeout.Token);
        Assert.Equal(ReplicationState.Stopped, (await running).State);
        Assert.Equal(0, await fixture.Server.ScalarAsync<long>(migration.SourceDatabase, "SELECT balance FROM bank.accounts WHERE id = 1"));
        await ReplicationControl.RemoveAsync(migration.SourceAddress, migration.TargetAddress, "fb_loop", null, null, migration.Timeout.Token);
    }

    [Fact]
    public async Task Failback_stopped_and_resumed_applies_every_change_of_the_target_once()
    {
        await using var migration = await Migration.StartAsync(fixture, "fb_twice");
        await migration.CutOverAsync();
        await migration.Target.ExecuteAsync(TargetWrites);

        ReplicationStatus first;
        await using (var failback = await FailbackSession.OpenAsync(migration.SourceAddress, migration.TargetAddress,
            new FailbackOptions { FetchId = "fb_twice", StatusInterval = TimeSpan.FromMilliseconds(200) }, migration.Log, migration.Timeout.Token))
        {
            var states = new List<ReplicationState>();
            var running = failback.RunAsync(new StateReports(states), migration.Timeout.Token);
            await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(Reported(states, ReplicationState.CaughtUp) || running.IsCompleted));
            await ReplicationControl.RequestStopAsync(migration.TargetAddress, "fb_twice", immediately: false, ReplicationDirection.Failback, migration.Timeout.Token);
            first = await running;
        }

        Assert.Equal(first with { At = default }, (await ReplicationControl.WaitForStopAsync(migration.TargetAddress, "fb_twice", TimeSpan.FromSeconds(5),
            ReplicationDirection.Failback, migration.Timeout.Token)) with
        {
            At = default, Rate = first.Rate, LagSeconds = first.LagSeconds, Checkpoint = first.Checkpoint,
        });

        // More writes while failback is stopped, then a second run from its checkpoint on the original.
        await migration.Target.ExecuteAsync("INSERT INTO bank.accounts VALUES (7000, 'later', 3); UPDATE bank.accounts SET owner = 'again' WHERE id = 5000; DELETE FROM bank.accounts WHERE id = 2;");
        var second = await migration.FailBackAsync(new FailbackOptions { FetchId = "fb_twice", StopWhenCaughtUp = true, StatusInterval = TimeSpan.FromMilliseconds(200) });

        Assert.Equal(await migration.Target.ScalarAsync<string>(Rows), await fixture.Server.ScalarAsync<string>(migration.SourceDatabase, Rows));
        Assert.Equal((42L, 21L, 10L), (first.Inserts, first.Updates, first.Deletes));
        Assert.Equal((43L, 22L, 11L), (second.Inserts, second.Updates, second.Deletes));
        await ReplicationControl.RemoveAsync(migration.SourceAddress, migration.TargetAddress, "fb_twice", null, null, migration.Timeout.Token);
    }

    [Fact]
    public async Task Failback_refuses_a_target_table_whose_columns_no_longer_match_the_original_naming_the_difference()
    {
        await using var migration = await Migration.StartAsync(fixture, "fb_ddl");
        await migration.CutOverAsync();
        await migration.Target.ExecuteAsync("ALTER TABLE bank.events ADD COLUMN note text; ALTER TABLE bank.accounts ALTER COLUMN balance TYPE text;");

        var refused = await Assert.ThrowsAsync<MoltException>(() => migration.FailBackAsync(new FailbackOptions { FetchId = "fb_ddl", StopWhenCaughtUp = true }));

        Assert.Equal("FailbackTablesChanged", refused.ErrorId);
        Assert.Contains("bank.events has column(s) note that bank.events does not", refused.Message, StringComparison.Ordinal);
        Assert.Contains("balance is text, loaded as bigint", refused.Message, StringComparison.Ordinal);
        var failback = Assert.Single(await ReplicationControl.ReadStatusAsync(migration.TargetAddress, "fb_ddl", migration.Timeout.Token),
            s => s.Direction == ReplicationDirection.Failback);
        Assert.Equal(ReplicationState.Failed, failback.State);
        await ReplicationControl.RemoveAsync(migration.SourceAddress, migration.TargetAddress, "fb_ddl", null, null, migration.Timeout.Token);
    }

    private static bool Reported(List<ReplicationState> states, ReplicationState state)
    {
        lock (states)
        {
            return states.Contains(state);
        }
    }

    /// <summary>A source database migrated into a target by a running forward stream, until its cutover.</summary>
    private sealed class Migration : IAsyncDisposable
    {
        private ReplicationSession? session;
        private Task<ReplicationStatus>? running;

        private Migration(ApplyTargetFixture fixture, string fetchId, string sourceDatabase, ApplyTarget target)
        {
            Fixture = fixture;
            SourceDatabase = sourceDatabase;
            Target = target;
            SourceAddress = EndpointAddress.Parse(fixture.Server.ConnectionUri(sourceDatabase));
            TargetAddress = EndpointAddress.Parse(fixture.Server.ConnectionUri(target.Database));
            Options = new ReplicationOptions
            {
                FetchId = fetchId,
                Load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate },
                StatusInterval = TimeSpan.FromMilliseconds(200),
            };
        }

        public ApplyTargetFixture Fixture { get; }

        public string SourceDatabase { get; }

        public ApplyTarget Target { get; }

        public EndpointAddress SourceAddress { get; }

        public EndpointAddress TargetAddress { get; }

        public ReplicationOptions Options { get; }

        public MoltLogSession Log { get; } = MoltLogSession.None();

        public CancellationTokenSource Timeout { get; } = new(TimeSpan.FromSeconds(90));

        /// <summary>Creates the source, starts forward replication with its load, and returns once it streams.</summary>
        public static async Task<Migration> StartAsync(ApplyTargetFixture fixture, string fetchId)
        {
            var sourceDb = $"{fetchId}_src_{Guid.NewGuid():N}"[..24];
            await fixture.Server.CreateDatabaseAsync(sourceDb);
            await fixture.Server.ExecuteAsync("postgres", $"ALTER DATABASE \"{sourceDb}\" SET TimeZone = 'UTC'");
            await fixture.Server.ExecuteAsync(sourceDb, SourceSchema);
            var migration = new Migration(fixture, fetchId, sourceDb, await fixture.NewTargetAsync($"{fetchId}_dst", "SELECT 1"));
            migration.session = await ReplicationSession.OpenAsync(migration.SourceAddress, migration.TargetAddress, migration.Options, migration.Log,
                migration.Timeout.Token);
            var states = new List<ReplicationState>();
            var opened = migration.session;
            migration.running = opened.StartAsync(await opened.PlanAsync(migration.Timeout.Token), new BulkLoadCallbacks(), _ => { }, new StateReports(states),
                migration.Timeout.Token);
            await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(Reported(states, ReplicationState.Streaming) || migration.running.IsCompleted));
            Assert.False(migration.running.IsFaulted, migration.running.Exception?.ToString());
            return migration;
        }

        public Task WriteOnSourceAsync(string sql) => Fixture.Server.ExecuteAsync(SourceDatabase, sql);

        /// <summary>Stop-MoltReplication at the cutover: drains to the source's end and records where failback starts.</summary>
        public async Task<ReplicationStatus> CutOverAsync()
        {
            await ReplicationControl.RequestStopAsync(TargetAddress, Options.FetchId!, immediately: false, Timeout.Token);
            var stopped = await running!;
            await session!.DisposeAsync();
            session = null;
            Assert.Equal(ReplicationState.Stopped, stopped.State);
            Assert.Equal(await Target.ScalarAsync<string>(Rows), await Fixture.Server.ScalarAsync<string>(SourceDatabase, Rows));
            return stopped;
        }

        public async Task<ReplicationStatus> FailBackAsync(FailbackOptions options)
        {
            await using var failback = await FailbackSession.OpenAsync(SourceAddress, TargetAddress, options, Log, Timeout.Token);
            return await failback.RunAsync(null, Timeout.Token);
        }

        public async ValueTask DisposeAsync()
        {
            if (session is not null)
            {
                await Timeout.CancelAsync();
                try
                {
                    await running!;
                }
                catch (OperationCanceledException)
                {
                    // The test ended with the stream still running: cancelling it is how it stops.
                }

                await session.DisposeAsync();
            }

            await Target.DisposeAsync();
            Log.Dispose();
            Timeout.Dispose();
        }
    }
}
