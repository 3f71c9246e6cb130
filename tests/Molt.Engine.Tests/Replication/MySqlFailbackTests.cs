using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// Failback into MariaDB end to end on real servers: a MariaDB-to-PostgreSQL migration with replication, the cutover
/// stop (which makes the failback slot), the application's writes on PostgreSQL, and those writes sent back into
/// MariaDB, every value in its original type.
/// </summary>
[Collection(MySqlReplicationCollection.Name)]
public sealed class MySqlFailbackTests(MySqlReplicationFixture fixture)
{
    /// <summary>The type matrix's rows written on the target during failback take the loaded row's id + this.</summary>
    private const int FailedBackOffset = 200;

    private const string BankSchema = """
        CREATE TABLE accounts (id INT AUTO_INCREMENT PRIMARY KEY, owner VARCHAR(50) NOT NULL, balance BIGINT UNSIGNED NOT NULL);
        CREATE TABLE entries (id BIGINT PRIMARY KEY, account_id INT NOT NULL, amount DECIMAL(12,2) NOT NULL, at TIMESTAMP(6) NULL,
          FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE ON UPDATE CASCADE);
        CREATE TABLE entry_notes (id INT PRIMARY KEY, entry_id BIGINT NOT NULL, note VARCHAR(20) NOT NULL,
          FOREIGN KEY (entry_id) REFERENCES entries (id) ON DELETE CASCADE ON UPDATE CASCADE);
        INSERT INTO accounts (id, owner, balance) SELECT seq, CONCAT('owner ', seq), seq * 10 FROM seq_1_to_200;
        INSERT INTO entries SELECT seq, seq % 10 + 1, seq / 4, '2024-01-01 00:00:00' FROM seq_1_to_50;
        INSERT INTO entry_notes SELECT seq, seq, CONCAT('note ', seq) FROM seq_1_to_50;
        """;

    // Counts every row MariaDB inserts or updates in accounts: a change applied twice (a batch re-applied after its commit) adds a row.
    private const string Audit = """
        CREATE TABLE applied (n INT AUTO_INCREMENT PRIMARY KEY, id INT NOT NULL, kind CHAR(1) NOT NULL);
        CREATE TRIGGER accounts_inserted AFTER INSERT ON accounts FOR EACH ROW INSERT INTO applied (id, kind) VALUES (NEW.id, 'i');
        CREATE TRIGGER accounts_updated AFTER UPDATE ON accounts FOR EACH ROW INSERT INTO applied (id, kind) VALUES (NEW.id, 'u');
        """;

    // The application after the cutover: inserts, updates, key changes (one cascading to entries), deletes (one cascading), in several transactions.
    private const string BankWrites = """
        INSERT INTO accounts SELECT g, 'new ' || g, 1 FROM generate_series(1001, 1040) g;
        UPDATE accounts SET balance = balance + 5 WHERE id BETWEEN 1 AND 20;
        UPDATE accounts SET id = 5000, owner = 'moved' WHERE id = 30;
        DELETE FROM accounts WHERE id BETWEEN 150 AND 159;
        INSERT INTO entries VALUES (1001, 1001, 12.34, '2025-06-01 10:11:12.654321+00'), (1002, 5000, -0.5, NULL);
        UPDATE entries SET amount = amount * 2 WHERE id <= 10;
        DELETE FROM accounts WHERE id = 2;
        UPDATE accounts SET id = 6000 WHERE id = 3;
        """;

    private const string BankRows = """
        SELECT CONCAT_WS('|', id, owner, balance) FROM accounts ORDER BY id
        """;

    [Theory]
    [InlineData(ZeroDateHandling.Sentinel)]
    [InlineData(ZeroDateHandling.DropNotNull)]
    public async Task The_targets_writes_come_back_into_MariaDB_as_the_original_types_and_Compare_finds_both_equal(ZeroDateHandling zeroDates)
    {
        var fetchId = $"myfb-{zeroDates}".ToLowerInvariant();
        var test = await fixture.NewCaseAsync($"myfb_{zeroDates.ToString().ToLowerInvariant()}", MySqlTypeMatrixReplicationTests.Schema + BankSchema);
        await MySqlTypeMatrixReplicationTests.InsertAsync(test, offset: 0, zeroInNotNull: true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stopped = await MigrateAndCutOverAsync(test, fetchId, zeroDates, timeout.Token);
        Assert.Equal($"moltfb_{fetchId.Replace('-', '_')}", stopped.FailbackSlot);

        await test.TargetAsync(BankWrites);
        // The loaded matrix rows copied on the target (zero dates as the load made them), then some changed and one deleted.
        // MariaDB's strict mode cannot write the ENUM error value '' (row 4's) back: that copy takes a member.
        var columns = string.Join(", ", MySqlTypeMatrixReplicationTests.Columns.Select(c => $"\"{c}\""));
        var values = string.Join(", ", MySqlTypeMatrixReplicationTests.Columns.Select(c => c == "e" ? "CASE WHEN id = 4 THEN 'b' ELSE e END" : $"\"{c}\""));
        await test.TargetAsync($"INSERT INTO matrix (id, {columns}) SELECT id + {FailedBackOffset}, {values} FROM matrix WHERE id <= 4");
        await test.TargetAsync("UPDATE matrix SET ti = -1, j = '{\"z\": [true]}', tm = '-1 day -02:03:04', b10 = B'0000000011' WHERE id = 2");
        await test.TargetAsync("DELETE FROM matrix WHERE id = 3");

        var final = await FailBackAsync(test, new FailbackOptions { FetchId = fetchId, StopWhenCaughtUp = true, ZeroDates = zeroDates,
            StatusInterval = TimeSpan.FromMilliseconds(200) }, timeout.Token);

        Assert.Equal((ReplicationState.Stopped, ReplicationDirection.Failback), (final.State, final.Direction));
        // 40 + 2 + 4 inserts; 20 + 2 key changes + 10 entries + 5 entries cascaded + 1 matrix row updated; 10 + 1 + 1 deletes (cascaded ones are MariaDB's own).
        Assert.Equal((46L, 38L), (final.Inserts, final.Updates));
        Assert.Equal(await test.TargetRowsAsync("SELECT concat_ws('|', id, owner, balance) FROM accounts ORDER BY id"), await test.SourceRowsAsync(BankRows));
        // The key change that cascaded to entries moved them on the original too, and left their notes (a delete of the old row would have cascaded to them).
        Assert.Equal("6000|6000|6000|6000|6000|5", await test.SourceScalarAsync<string>(
            "SELECT CONCAT(GROUP_CONCAT(e.account_id ORDER BY e.id SEPARATOR '|'), '|', COUNT(n.id)) FROM entries e JOIN entry_notes n ON n.entry_id = e.id WHERE e.id IN (2, 12, 22, 32, 42)"));
        Assert.Equal("-26:03:04|-1|3|{\"z\": [true]}", await test.SourceScalarAsync<string>("SELECT CONCAT_WS('|', tm, ti, b10 + 0, j) FROM matrix WHERE id = 2"));
        Assert.Equal(0, await test.SourceScalarAsync<long>("SELECT COUNT(*) FROM matrix WHERE id = 3"));

        // Each copied row, column by column, as the bytes of MariaDB's text of it (a BIT's and a BINARY's own bytes), against the row it was loaded from.
        var text = string.Join(", '|', ", MySqlTypeMatrixReplicationTests.Columns.Where(c => c is not "e" and not "dtm2")
            .Select(c => $"COALESCE(HEX(CAST(`{c}` AS BINARY)), 'NULL')"));
        // Under DropNotNull the zero dates of row 4's nullable columns were loaded as NULL, which is all that comes back.
        var exact = zeroDates == ZeroDateHandling.Sentinel ? "1, 4" : "1";
        var loaded = await test.SourceRowsAsync($"SELECT id, CONCAT({text}) FROM matrix WHERE id IN ({exact}) ORDER BY id");
        var back = await test.SourceRowsAsync($"SELECT id - {FailedBackOffset}, CONCAT({text}) FROM matrix WHERE id - {FailedBackOffset} IN ({exact}) ORDER BY id");
        Assert.Equal(loaded, back);
        Assert.Equal(await test.SourceRowsAsync("SELECT e, dtm2 FROM matrix WHERE id = 1"), await test.SourceRowsAsync($"SELECT e, dtm2 FROM matrix WHERE id = {1 + FailedBackOffset}"));
        // Sentinel: every zero date (also one whose month alone was zero) was loaded as the stand-in and comes back as the zero date.
        // DropNotNull: NULL comes back as NULL, except in a column NOT NULL on the original, where it can only have been a zero date.
        Assert.Equal(zeroDates == ZeroDateHandling.Sentinel ? "0000-00-00 00:00:00.00|0000-00-00|0000-00-00 00:00:00" : "NULL|NULL|0000-00-00 00:00:00",
            await test.SourceScalarAsync<string>("SELECT CONCAT_WS('|', COALESCE(CAST(dtm2 AS CHAR), 'NULL'), COALESCE(CAST(dt AS CHAR), 'NULL'), CAST(dnn AS CHAR)) " +
                $"FROM matrix WHERE id = {4 + FailedBackOffset}"));

        var checkpoint = await test.SourceRowsAsync($"SELECT notation, position, transactions FROM `_molt`.`replication_checkpoints` WHERE fetch_id = '{fetchId}'");
        Assert.Equal($"{final.Checkpoint!.Position.Notation}|{final.Checkpoint.Position}|{final.Checkpoint.Transactions}", checkpoint);

        using var log = MoltLogSession.None();
        var compared = await CompareSession.RunAsync(test.SourceAddress, test.TargetAddress, new CompareOptions { ZeroDates = zeroDates }, new CompareCallbacks(), log,
            timeout.Token);
        Assert.Equal(["accounts", "entries", "entry_notes", "matrix"], compared.Select(t => t.Table.Name).Order());
        Assert.All(compared, t => Assert.Equal(ComparisonStatus.Equal, t.Status));
        await ReplicationControl.RemoveAsync(test.SourceAddress, test.TargetAddress, fetchId, null, null, timeout.Token);
    }

    [Fact]
    public async Task Failback_stopped_between_batches_and_run_again_applies_no_change_twice()
    {
        const string fetchId = "myfb-twice";
        var test = await fixture.NewCaseAsync("myfb_twice", BankSchema);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await MigrateAndCutOverAsync(test, fetchId, ZeroDateHandling.Null, timeout.Token);
        await test.SourceAsync(Audit);
        // 20 ms a row, so that the run is still applying when it is stopped, however idle the machine.
        await test.SourceAsync("CREATE TRIGGER slow BEFORE INSERT ON accounts FOR EACH ROW SET NEW.owner = IF(SLEEP(0.02) = 0, NEW.owner, NEW.owner)");
        // Many small target transactions, applied a few per batch, so that the run is stopped with some committed and more to come.
        await test.TargetAsync(string.Concat(Enumerable.Range(1, 60).Select(i => $"UPDATE accounts SET balance = balance + {i} WHERE id = {i}; ")));
        await test.TargetAsync(string.Concat(Enumerable.Range(1, 30).Select(i => $"INSERT INTO accounts VALUES ({2000 + i}, 'late', {i}); ")));
        var small = new ApplyBatchLimits(3, ApplyBatchLimits.Default.MaxBytes, TimeSpan.FromMilliseconds(50));

        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token))
        {
            await using var failback = await FailbackSession.OpenAsync(test.SourceAddress, test.TargetAddress,
                new FailbackOptions { FetchId = fetchId, Batch = small, StatusInterval = TimeSpan.FromMilliseconds(200) }, MoltLogSession.None(), timeout.Token);
            var running = failback.RunAsync(null, stop.Token);
            await SessionTestSupport.WaitUntilAsync(async () => running.IsCompleted || await test.SourceScalarAsync<long>("SELECT COUNT(*) FROM applied") >= 10);
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        }

        var applied = await test.SourceScalarAsync<long>("SELECT COUNT(*) FROM applied");
        Assert.InRange(applied, 10, 89);
        var final = await FailBackAsync(test, new FailbackOptions { FetchId = fetchId, Batch = small, StopWhenCaughtUp = true,
            StatusInterval = TimeSpan.FromMilliseconds(200) }, timeout.Token);

        Assert.Equal(ReplicationState.Stopped, final.State);
        Assert.Equal(await test.TargetRowsAsync("SELECT concat_ws('|', id, owner, balance) FROM accounts ORDER BY id"), await test.SourceRowsAsync(BankRows));
        // Each change once: 60 updates and 30 inserts, however the two runs divided them.
        Assert.Equal("60|30", await test.SourceScalarAsync<string>("SELECT CONCAT(SUM(kind = 'u'), '|', SUM(kind = 'i')) FROM applied"));
        Assert.Equal(0, await test.SourceScalarAsync<long>("SELECT COUNT(*) FROM (SELECT id, kind FROM applied GROUP BY id, kind HAVING COUNT(*) > 1) d"));
        await ReplicationControl.RemoveAsync(test.SourceAddress, test.TargetAddress, fetchId, null, null, timeout.Token);
    }

    [Fact]
    public async Task A_failback_connection_killed_mid_batch_applies_the_batch_again_on_a_new_one()
    {
        const string fetchId = "myfb-kill";
        var test = await fixture.NewCaseAsync("myfb_kill", BankSchema);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await MigrateAndCutOverAsync(test, fetchId, ZeroDateHandling.Null, timeout.Token);
        // Each written row takes 20 ms on MariaDB, so that a batch's statement runs long enough to be killed.
        await test.SourceAsync("CREATE TRIGGER slow BEFORE INSERT ON accounts FOR EACH ROW SET NEW.owner = IF(SLEEP(0.02) = 0, NEW.owner, NEW.owner)");
        await test.TargetAsync(string.Concat(Enumerable.Range(1, 100).Select(i => $"UPDATE accounts SET balance = balance * 2 WHERE id = {i}; ")));

        await using var failback = await FailbackSession.OpenAsync(test.SourceAddress, test.TargetAddress, new FailbackOptions
        {
            FetchId = fetchId, StopWhenCaughtUp = true, StatusInterval = TimeSpan.FromMilliseconds(200),
            Batch = new ApplyBatchLimits(20, ApplyBatchLimits.Default.MaxBytes, TimeSpan.FromMilliseconds(50)),
        }, MoltLogSession.None(), timeout.Token);
        var running = failback.RunAsync(null, timeout.Token);
        long? killed = null;
        await SessionTestSupport.WaitUntilAsync(async () =>
        {
            killed = await test.SourceScalarAsync<long?>(
                $"SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO `{test.SourceDatabase}`.`accounts`%' LIMIT 1");
            return killed is not null || running.IsCompleted;
        });
        Assert.NotNull(killed);
        await test.SourceAsync($"KILL CONNECTION {killed}");
        var final = await running;

        Assert.Equal(ReplicationState.Stopped, final.State);
        Assert.True(final.Retries >= 1, "The killed batch was not applied again.");
        Assert.Equal(100, final.Updates);
        Assert.Equal(await test.TargetRowsAsync("SELECT concat_ws('|', id, owner, balance) FROM accounts ORDER BY id"), await test.SourceRowsAsync(BankRows));
        await ReplicationControl.RemoveAsync(test.SourceAddress, test.TargetAddress, fetchId, null, null, timeout.Token);
    }

    [Fact]
    public async Task Geometries_written_on_a_PostGIS_target_come_back_into_MariaDB_with_their_SRID()
    {
        const string fetchId = "myfb-spatial";
        var test = await fixture.NewCaseAsync("myfb_spatial", """
            CREATE TABLE places (id INT PRIMARY KEY, pt POINT REF_SYSTEM_ID=4326, area POLYGON, any_g GEOMETRY);
            INSERT INTO places VALUES (1, ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'), NULL);
            """);
        await test.TargetAsync("CREATE EXTENSION postgis");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var (session, running) = await test.StartAsync(MySqlStreamCase.Options(fetchId), timeout.Token);
        await using (session)
        {
            await ReplicationControl.RequestStopAsync(test.TargetAddress, fetchId, immediately: false, timeout.Token);
            Assert.Equal($"moltfb_{fetchId.Replace('-', '_')}", (await running).FailbackSlot);
        }

        await test.TargetAsync("""
            INSERT INTO places VALUES (2, ST_GeomFromText('POINT(-71.0625 42.375)', 4326), ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))'),
              ST_GeomFromText('LINESTRING(0 0,1 1)', 3857));
            UPDATE places SET pt = ST_GeomFromText('POINT(5 6)', 4326), any_g = ST_GeomFromText('GEOMETRYCOLLECTION EMPTY') WHERE id = 1;
            """);
        var final = await FailBackAsync(test, new FailbackOptions { FetchId = fetchId, StopWhenCaughtUp = true, StatusInterval = TimeSpan.FromMilliseconds(200) },
            timeout.Token);

        Assert.Equal((1L, 1L), (final.Inserts, final.Updates));
        Assert.Equal(await test.TargetRowsAsync(
                "SELECT id, ST_SRID(pt) || ';' || ST_AsText(pt), ST_SRID(area) || ';' || ST_AsText(area), ST_SRID(any_g) || ';' || ST_AsText(any_g) FROM places ORDER BY id"),
            await test.SourceRowsAsync(
                "SELECT id, CONCAT(ST_SRID(pt), ';', ST_AsText(pt)), CONCAT(ST_SRID(area), ';', ST_AsText(area)), CONCAT(ST_SRID(any_g), ';', ST_AsText(any_g)) FROM places ORDER BY id"));
        using var log = MoltLogSession.None();
        var compared = await CompareSession.RunAsync(test.SourceAddress, test.TargetAddress, new CompareOptions(), new CompareCallbacks(), log, timeout.Token);
        Assert.Equal(ComparisonStatus.Equal, Assert.Single(compared).Status);
        await ReplicationControl.RemoveAsync(test.SourceAddress, test.TargetAddress, fetchId, null, null, timeout.Token);
    }

    /// <summary>Loads and streams the source, writes on it while streaming, and stops at the cutover.</summary>
    private static async Task<ReplicationStatus> MigrateAndCutOverAsync(MySqlStreamCase test, string fetchId, ZeroDateHandling zeroDates, CancellationToken cancellationToken)
    {
        var (session, running) = await test.StartAsync(MySqlStreamCase.Options(fetchId) with { ZeroDates = zeroDates }, cancellationToken);
        await using (session)
        {
            await test.SourceAsync("UPDATE accounts SET balance = balance + 1 WHERE id <= 100; INSERT INTO accounts (owner, balance) VALUES ('forward', 7)");
            await ReplicationControl.RequestStopAsync(test.TargetAddress, fetchId, immediately: false, cancellationToken);
            var stopped = await running;
            Assert.Equal(ReplicationState.Stopped, stopped.State);
            Assert.Equal(await test.SourceRowsAsync(BankRows), await test.TargetRowsAsync("SELECT concat_ws('|', id, owner, balance) FROM accounts ORDER BY id"));
            return stopped;
        }
    }

    private static async Task<ReplicationStatus> FailBackAsync(MySqlStreamCase test, FailbackOptions options, CancellationToken cancellationToken)
    {
        await using var failback = await FailbackSession.OpenAsync(test.SourceAddress, test.TargetAddress, options, MoltLogSession.None(), cancellationToken);
        return await failback.RunAsync(null, cancellationToken);
    }
}
