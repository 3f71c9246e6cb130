using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Molt.Engine.Sessions;
using Molt.Engine.Tests.Replication;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// Failback from a CockroachDB target, the whole session on real servers except the cluster: a PostgreSQL database stands
/// in for the target (its tables loaded by a real load, its <c>_molt</c> holding the cutover's status), and answers the
/// changefeed source's three statements (<see cref="ChangefeedSql"/>) with rows written as CockroachDB's documentation
/// shows a sinkless changefeed's (table, key, value). The rows go through the real changefeed stream, window, loop and
/// appliers into a real PostgreSQL original and a real MariaDB original. What CockroachDB itself would send is not tested.
/// </summary>
[Collection(MySqlReplicationCollection.Name)]
public sealed class ChangefeedFailbackSessionTests(MySqlReplicationFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly RecordedLog log = new(output);

    public void Dispose() => log.WriteToOutput();

    /// <summary>The HLC the cutover recorded: rows at or below it are Molt's own forward writes.</summary>
    private const string Anchor = "1701102290000000000.0000000000";

    private const string PostgresSchema = """
        CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance bigint NOT NULL, active boolean NOT NULL, opened timestamptz, amount numeric(20,8));
        INSERT INTO accounts SELECT g, 'owner ' || g, g * 10, true, '2024-01-01 00:00:00+00', g FROM generate_series(1, 20) g;
        """;

    private const string PostgresRows = "SELECT string_agg(concat_ws('|', id, owner, balance, active, opened, amount), ';' ORDER BY id) FROM accounts";

    [Fact]
    public async Task A_changefeeds_windows_come_back_into_PostgreSQL_once_each_resume_from_the_checkpoint_and_a_cursor_past_the_gc_window_is_refused()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var original = await NewPostgresDatabaseAsync("cfpg_src", PostgresSchema);
        var target = await NewPostgresDatabaseAsync("cfpg_dst", ChangefeedStandIn.Schema);
        var originalAddress = EndpointAddress.Parse(fixture.Target.ConnectionUri(original));
        var targetAddress = EndpointAddress.Parse(fixture.Target.ConnectionUri(target));
        const string fetchId = "cf-pg";
        await LoadAsync(originalAddress, targetAddress, fetchId, timeout.Token);
        await ChangefeedStandIn.RecordCutOverAsync(targetAddress, fetchId, Anchor, timeout.Token);
        var feed = new ChangefeedStandIn(fixture.Target, target);

        // Molt's own last forward write, at the anchor: never sent back.
        await feed.RowAsync("accounts", "[5]", """{"after": {"id": 5, "owner": "owner 5", "balance": -1, "active": true, "opened": "2024-01-01T00:00:00Z", "amount": 5}, "before": null, "updated": "1701102290000000000.0000000000"}""");
        // The application's writes as the target's changefeed sends them, applied to the stand-in's tables too.
        await feed.WriteAsync("""
            INSERT INTO accounts VALUES (101, 'new', 5, false, '2025-04-24 14:59:28.96273+00', 0.5);
            UPDATE accounts SET balance = 99, active = false WHERE id = 1;
            DELETE FROM accounts WHERE id = 2;
            UPDATE accounts SET amount = 0.0000001 WHERE id = 101;
            UPDATE accounts SET id = 300 WHERE id = 3;
            """);
        await feed.RowAsync("accounts", "[101]", """{"after": {"id": 101, "owner": "new", "balance": 5, "active": false, "opened": "2025-04-24T14:59:28.96273Z", "amount": 0.50000000}, "before": null, "updated": "1701102300000000000.0000000000"}""");
        await feed.RowAsync("accounts", "[1]", """{"after": {"id": 1, "owner": "owner 1", "balance": 99, "active": false, "opened": "2024-01-01T00:00:00Z", "amount": 1.00000000}, "before": {"id": 1, "owner": "owner 1", "balance": 10, "active": true, "opened": "2024-01-01T00:00:00Z", "amount": 1.00000000}, "updated": "1701102301000000000.0000000000"}""");
        await feed.RowAsync("accounts", "[2]", """{"after": null, "before": {"id": 2, "owner": "owner 2", "balance": 20, "active": true, "opened": "2024-01-01T00:00:00Z", "amount": 2.00000000}, "updated": "1701102302000000000.0000000000"}""");
        // At-least-once: the insert again, as after a node restart.
        await feed.RowAsync("accounts", "[101]", """{"after": {"id": 101, "owner": "new", "balance": 5, "active": false, "opened": "2025-04-24T14:59:28.96273Z", "amount": 0.50000000}, "before": null, "updated": "1701102300000000000.0000000000"}""");
        await feed.ResolvedAsync("1701102303000000000.0000000000");
        // DECIMAL below 1E-6 as apd prints it; a key change as a delete and an insert at one timestamp.
        await feed.RowAsync("accounts", "[101]", """{"after": {"id": 101, "owner": "new", "balance": 5, "active": false, "opened": "2025-04-24T14:59:28.96273Z", "amount": 1.0E-7}, "before": {"id": 101, "owner": "new", "balance": 5, "active": false, "opened": "2025-04-24T14:59:28.96273Z", "amount": 0.50000000}, "updated": "1701102304000000000.0000000000"}""");
        await feed.RowAsync("accounts", "[300]", """{"after": {"id": 300, "owner": "owner 3", "balance": 30, "active": true, "opened": "2024-01-01T00:00:00Z", "amount": 3.00000000}, "before": null, "updated": "1701102305000000000.0000000000"}""");
        await feed.RowAsync("accounts", "[3]", """{"after": null, "before": {"id": 3, "owner": "owner 3", "balance": 30, "active": true, "opened": "2024-01-01T00:00:00Z", "amount": 3.00000000}, "updated": "1701102305000000000.0000000000"}""");
        await feed.ResolvedAsync("1701102306000000000.0000000000");
        await feed.ClockAsync("1701102306000000000.0000000000", ttlSeconds: 14400);

        var first = await FailBackAsync(originalAddress, targetAddress, feed, new FailbackOptions { FetchId = fetchId, StopWhenCaughtUp = true }, timeout.Token);

        Assert.Equal((ReplicationState.Stopped, ReplicationDirection.Failback), (first.State, first.Direction));
        Assert.Equal((2L, 2L, 2L), (first.Inserts, first.Updates, first.Deletes));
        Assert.Equal(await fixture.Target.ScalarAsync<string>(target, PostgresRows), await fixture.Target.ScalarAsync<string>(original, PostgresRows));
        Assert.Equal("50", await fixture.Target.ScalarAsync<string>(original, "SELECT balance::text FROM accounts WHERE id = 5"));
        Assert.Equal("0.00000010|true", await fixture.Target.ScalarAsync<string>(original,
            "SELECT amount::text || '|' || (opened = '2025-04-24 14:59:28.96273+00')::text FROM accounts WHERE id = 101"));
        Assert.Equal("cockroach-hlc|1701102306000000000.0000000000|2", await fixture.Target.ScalarAsync<string>(original,
            $"SELECT concat_ws('|', position_notation, position, transactions) FROM _molt.replication_checkpoints WHERE fetch_id = '{fetchId}'"));

        // More writes while failback is stopped; the feed sends everything again from the start, and only the new window is applied.
        await feed.WriteAsync("UPDATE accounts SET owner = 'again' WHERE id = 1; INSERT INTO accounts VALUES (400, 'later', 1, true, NULL, NULL);");
        await feed.RowAsync("accounts", "[1]", """{"after": {"id": 1, "owner": "again", "balance": 99, "active": false, "opened": "2024-01-01T00:00:00Z", "amount": 1.00000000}, "before": {"id": 1, "owner": "owner 1", "balance": 99, "active": false, "opened": "2024-01-01T00:00:00Z", "amount": 1.00000000}, "updated": "1701102310000000000.0000000000"}""");
        await feed.RowAsync("accounts", "[400]", """{"after": {"id": 400, "owner": "later", "balance": 1, "active": true, "opened": null, "amount": null}, "before": null, "updated": "1701102311000000000.0000000000"}""");
        await feed.ResolvedAsync("1701102312000000000.0000000000");
        await feed.ClockAsync("1701102312000000000.0000000000", ttlSeconds: 14400);

        var second = await FailBackAsync(originalAddress, targetAddress, feed, new FailbackOptions { FetchId = fetchId, StopWhenCaughtUp = true }, timeout.Token);

        Assert.Equal((3L, 3L, 2L), (second.Inserts, second.Updates, second.Deletes));
        Assert.Equal(await fixture.Target.ScalarAsync<string>(target, PostgresRows), await fixture.Target.ScalarAsync<string>(original, PostgresRows));

        // Two hours later under a one-hour GC TTL: the checkpoint's row versions may be gone, so failback refuses to start.
        await feed.ClockAsync("1701109512000000000.0000000000", ttlSeconds: 3600);
        var refused = await Assert.ThrowsAsync<MoltException>(() =>
            FailBackAsync(originalAddress, targetAddress, feed, new FailbackOptions { FetchId = fetchId, StopWhenCaughtUp = true }, timeout.Token));

        Assert.Equal("ChangefeedCursorPastGcWindow", refused.ErrorId);
        Assert.Contains("1701102312000000000.0000000000", refused.Message, StringComparison.Ordinal);
        Assert.Contains("gc.ttlseconds", refused.Remedy, StringComparison.Ordinal);
        Assert.Equal(await fixture.Target.ScalarAsync<string>(target, PostgresRows), await fixture.Target.ScalarAsync<string>(original, PostgresRows));
        var failback = Assert.Single(await ReplicationControl.ReadStatusAsync(targetAddress, fetchId, timeout.Token), s => s.Direction == ReplicationDirection.Failback);
        Assert.Equal(ReplicationState.Failed, failback.State);
    }

    private const string MariaDbSchema = """
        CREATE TABLE accounts (id INT PRIMARY KEY, owner VARCHAR(50) NOT NULL, balance BIGINT UNSIGNED NOT NULL, opened TIMESTAMP(6) NULL,
          at DATETIME(6) NULL, amount DECIMAL(20,8) NULL, flags BIT(4) NULL, doc JSON NULL, raw VARBINARY(8) NULL, took TIME(6) NULL);
        INSERT INTO accounts (id, owner, balance) SELECT seq, CONCAT('owner ', seq), seq * 10 FROM seq_1_to_20;
        """;

    private const string MariaDbRows =
        "SELECT CONCAT_WS('|', id, owner, balance, UNIX_TIMESTAMP(opened), at, amount, BIN(flags), doc, HEX(raw), took) FROM accounts WHERE id IN (1, 2, 101, 102) ORDER BY id";

    [Fact]
    public async Task A_changefeeds_rows_come_back_into_MariaDB_in_the_original_types_once_and_resume_from_the_checkpoint()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var test = await fixture.NewCaseAsync("cfmaria", MariaDbSchema);
        await test.TargetAsync(ChangefeedStandIn.Schema);
        const string fetchId = "cf-maria";
        await LoadAsync(test.SourceAddress, test.TargetAddress, fetchId, timeout.Token);
        var feed = new ChangefeedStandIn(fixture.Target, test.TargetDatabase);

        // Each value as CockroachDB's changefeed JSON writes it: TIMESTAMPTZ in UTC with Z, TIMESTAMP without a zone,
        // DECIMAL(20,0) beyond 2^64 / 2 as its digits, DECIMAL in exponent form, VARBIT and INTERVAL as text, BYTES in hex.
        await feed.RowAsync("accounts", "[101]", """{"after": {"id": 101, "owner": "new", "balance": 18446744073709551615, "opened": "2025-04-24T14:59:28.96273Z", "at": "2025-04-24T14:59:28.96273", "amount": 1.0E-7, "flags": "1010", "doc": {"a": [1, "x"]}, "raw": "\\x00ff", "took": "-838:59:59"}, "before": null, "updated": "1701102300000000000.0000000000"}""");
        await feed.RowAsync("accounts", "[1]", """{"after": {"id": 1, "owner": "owner 1", "balance": 11, "opened": null, "at": null, "amount": 26.30, "flags": "0001", "doc": {"__crdb_json_null__": true}, "raw": null, "took": "1 day 02:03:04.5"}, "before": {"id": 1, "owner": "owner 1", "balance": 10, "opened": null, "at": null, "amount": null, "flags": null, "doc": null, "raw": null, "took": null}, "updated": "1701102301000000000.0000000000"}""");
        await feed.RowAsync("accounts", "[2]", """{"after": null, "before": {"id": 2, "owner": "owner 2", "balance": 20, "opened": null, "at": null, "amount": null, "flags": null, "doc": null, "raw": null, "took": null}, "updated": "1701102302000000000.0000000000"}""");
        await feed.RowAsync("accounts", "[101]", """{"after": {"id": 101, "owner": "new", "balance": 18446744073709551615, "opened": "2025-04-24T14:59:28.96273Z", "at": "2025-04-24T14:59:28.96273", "amount": 1.0E-7, "flags": "1010", "doc": {"a": [1, "x"]}, "raw": "\\x00ff", "took": "-838:59:59"}, "before": null, "updated": "1701102300000000000.0000000000"}""");
        await feed.ResolvedAsync("1701102303000000000.0000000000");
        await feed.ClockAsync("1701102303000000000.0000000000", ttlSeconds: 14400);

        var first = await FailBackAsync(test.SourceAddress, test.TargetAddress, feed,
            new FailbackOptions { FetchId = fetchId, StopWhenCaughtUp = true, StartAt = Anchor }, timeout.Token);

        Assert.Equal((1L, 1L, 1L), (first.Inserts, first.Updates, first.Deletes));
        Assert.Equal(
            "1|owner 1|11|26.30000000|1|null|26:03:04.500000\n" +
            "101|new|18446744073709551615|1745506768.962730|2025-04-24 14:59:28.962730|0.00000010|1010|{\"a\": [1, \"x\"]}|00FF|-838:59:59.000000",
            await test.SourceRowsAsync(MariaDbRows));
        Assert.Equal("cockroach-hlc|1701102303000000000.0000000000|1", await test.SourceScalarAsync<string>(
            $"SELECT CONCAT_WS('|', notation, position, transactions) FROM `_molt`.`replication_checkpoints` WHERE fetch_id = '{fetchId}'"));

        // Resumed from the checkpoint on MariaDB (not -StartAt's anchor): the replayed window is dropped, the new one applied.
        await feed.RowAsync("accounts", "[102]", """{"after": {"id": 102, "owner": "later", "balance": 0, "opened": null, "at": null, "amount": null, "flags": null, "doc": null, "raw": null, "took": null}, "before": null, "updated": "1701102310000000000.0000000000"}""");
        await feed.ResolvedAsync("1701102311000000000.0000000000");
        await feed.ClockAsync("1701102311000000000.0000000000", ttlSeconds: 14400);

        var second = await FailBackAsync(test.SourceAddress, test.TargetAddress, feed,
            new FailbackOptions { FetchId = fetchId, StopWhenCaughtUp = true, StartAt = Anchor }, timeout.Token);

        Assert.Equal((2L, 1L, 1L), (second.Inserts, second.Updates, second.Deletes));
        Assert.Equal(19, await test.SourceScalarAsync<long>("SELECT COUNT(*) FROM accounts WHERE id <= 20"));
        Assert.Equal("later", await test.SourceScalarAsync<string>("SELECT owner FROM accounts WHERE id = 102"));
    }

    private async Task<string> NewPostgresDatabaseAsync(string prefix, string schemaSql)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..24];
        await fixture.Target.CreateDatabaseAsync(name);
        await fixture.Target.ExecuteAsync("postgres", $"ALTER DATABASE \"{name}\" SET TimeZone = 'UTC'");
        await fixture.Target.ExecuteAsync(name, schemaSql);
        return name;
    }

    /// <summary>The migration's load, which records the run failback plans its tables from.</summary>
    private static async Task LoadAsync(EndpointAddress source, EndpointAddress target, string fetchId, CancellationToken cancellationToken)
    {
        using var log = MoltLogSession.None();
        await using var load = await BulkLoadSession.OpenAsync(source, target, new BulkLoadOptions { FetchId = fetchId, TableHandling = TableHandling.DropAndRecreate },
            new SourceOptions(), log, cancellationToken);
        var summary = await load.ExecuteAsync(await load.PlanAsync(cancellationToken), new BulkLoadCallbacks(), cancellationToken);
        Assert.Equal(RunStatus.Succeeded, summary.Status);
    }

    private async Task<ReplicationStatus> FailBackAsync(EndpointAddress original, EndpointAddress target, ChangefeedStandIn feed, FailbackOptions options,
        CancellationToken cancellationToken)
    {
        using var session = new MoltLogSession(log.Record, minimumLevel: MoltLogLevel.Debug);
        await using var failback = await FailbackSession.OpenAsync(original, target, options with { StatusInterval = TimeSpan.FromMilliseconds(200) }, session,
            feed.Source(target), cancellationToken);
        Assert.Null(failback.Slot);
        return await failback.RunAsync(null, cancellationToken);
    }
}
