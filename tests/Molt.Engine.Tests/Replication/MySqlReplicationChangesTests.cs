using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Sessions;

namespace Molt.Engine.Tests.Replication;

/// <summary>What the binlog stream makes of each kind of source change, from a real MariaDB into a real PostgreSQL target.</summary>
[Collection(MySqlReplicationCollection.Name)]
public sealed class MySqlReplicationChangesTests(MySqlReplicationFixture fixture)
{
    private const string Schema = MySqlReplicationSessionTests.Schema + """

        CREATE TABLE logs (id int PRIMARY KEY, line varchar(40));
        INSERT INTO logs VALUES (1, 'one'), (2, 'two');
        """;

    private const string ItemRows = MySqlReplicationSessionTests.ItemRows;

    private const string NoteRows = MySqlReplicationSessionTests.NoteRows;

    [Fact]
    public async Task Inserts_updates_deletes_a_key_change_a_truncate_and_keyless_rows_land_in_commit_order_with_the_checkpoint()
    {
        var test = await fixture.NewCaseAsync("kinds", Schema);
        var options = MySqlStreamCase.Options("kinds");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (session, running) = await test.StartAsync(options, timeout.Token);
        ReplicationStatus stopped;
        await using (session)
        {
            // Only commit order gives the right end state: the same key inserted, changed, deleted and inserted again.
            await test.SourceAsync("INSERT INTO items VALUES (500, 'first', 1, 1.10, NULL, 'small', NULL)");
            await test.SourceAsync("UPDATE items SET name = 'second' WHERE id = 500");
            await test.SourceAsync("DELETE FROM items WHERE id = 500");
            await test.SourceAsync("INSERT INTO items VALUES (500, 'third', 3, 3.30, '2030-01-01 00:00:00.5', 'large', 'again')");
            await test.SourceAsync("UPDATE items SET id = 5000, name = 'moved' WHERE id = 60");
            await test.SourceAsync("UPDATE items SET id = id + 1000 WHERE id BETWEEN 70 AND 72");
            await test.SourceAsync("DELETE FROM notes WHERE n = 1 LIMIT 1");
            await test.SourceAsync("UPDATE notes SET note = 'B' WHERE n = 2");
            await test.SourceAsync("START TRANSACTION; INSERT INTO notes VALUES (3, 'in one transaction'); UPDATE items SET qty = 0 WHERE id = 1; COMMIT");
            await test.SourceAsync("TRUNCATE TABLE logs");
            await test.SourceAsync("INSERT INTO logs VALUES (9, 'after the truncate')");
            await ReplicationControl.RequestStopAsync(test.TargetAddress, "kinds", immediately: false, timeout.Token);
            stopped = await running;
        }

        Assert.Equal(await test.SourceRowsAsync(ItemRows), await test.TargetRowsAsync(ItemRows));
        Assert.Equal(await test.SourceRowsAsync(NoteRows), await test.TargetRowsAsync(NoteRows));
        Assert.Equal("9|after the truncate", await test.TargetRowsAsync("SELECT id, line FROM logs ORDER BY id"));
        Assert.Equal("500|third", await test.TargetRowsAsync("SELECT id, name FROM items WHERE id = 500"));
        Assert.Equal(11, stopped.Transactions);
        Assert.Equal((4L, 7L, 2L), (stopped.Inserts, stopped.Updates, stopped.Deletes));
        var end = await test.SourceScalarAsync<string>("SELECT @@global.gtid_binlog_pos");
        Assert.Equal(end, await test.TargetScalarAsync<string>("SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'kinds'"));
        Assert.Equal(end, stopped.SourcePosition!.ToString());
    }

    [Fact]
    public async Task A_column_added_on_the_source_stops_the_stream_with_its_checkpoint_intact_and_resume_goes_on_once_the_target_has_it()
    {
        var test = await fixture.NewCaseAsync("ddl", Schema);
        var options = MySqlStreamCase.Options("ddl");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var error = await Assert.ThrowsAsync<MoltException>(async () =>
        {
            var (session, running) = await test.StartAsync(options, timeout.Token);
            await using (session)
            {
                await test.SourceAsync("INSERT INTO logs VALUES (3, 'before the change')");
                await test.SourceAsync("ALTER TABLE logs ADD COLUMN extra int");
                await test.SourceAsync("INSERT INTO logs VALUES (4, 'after the change', 42)");
                await running;
            }
        });

        Assert.Equal(("SchemaChanged", MoltErrorKind.SchemaMismatch), (error.ErrorId, error.Kind));
        Assert.Contains($"{test.SourceDatabase}.logs", error.Message);
        Assert.Contains("\"extra\"", error.Message);
        Assert.Equal("1|one\n2|two\n3|before the change", await test.TargetRowsAsync("SELECT id, line FROM logs ORDER BY id"));
        Assert.Equal(ReplicationState.Failed, Assert.Single(await ReplicationControl.ReadStatusAsync(test.TargetAddress, "ddl", timeout.Token)).State);

        // The same change on the target; the resume plans the table as it is now, so the ALTER read again no longer stops it.
        await test.TargetAsync("ALTER TABLE logs ADD COLUMN extra int");
        await test.ResumeToEndAsync(options, timeout.Token);
        Assert.Equal("1|one|NULL\n2|two|NULL\n3|before the change|NULL\n4|after the change|42",
            await test.TargetRowsAsync("SELECT id, line, extra FROM logs ORDER BY id"));
    }

    [Fact]
    public async Task A_minimal_row_image_leaves_the_columns_it_does_not_log_alone_on_the_target()
    {
        var test = await fixture.NewCaseAsync("minimal", Schema);
        var options = MySqlStreamCase.Options("minimal");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (session, running) = await test.StartAsync(options, timeout.Token);
        await using (session)
        {
            // Changed on the target only: a column a minimal update does not log must keep this value.
            await test.TargetAsync("UPDATE items SET name = 'target only' WHERE id = 5");
            await test.SourceAsync("""
                SET SESSION binlog_row_image = 'MINIMAL';
                UPDATE items SET qty = 999 WHERE id = 5;
                UPDATE items SET id = 6000 WHERE id = 6;
                DELETE FROM items WHERE id = 7;
                INSERT INTO items (id, name, qty) VALUES (7000, 'minimal insert', 7);
                """);
            await ReplicationControl.RequestStopAsync(test.TargetAddress, "minimal", immediately: false, timeout.Token);
            await running;
        }

        Assert.Equal("5|target only|999|1.25", await test.TargetRowsAsync("SELECT id, name, qty, price FROM items WHERE id = 5"));
        Assert.Equal(await test.SourceRowsAsync("SELECT id, name, qty FROM items WHERE id IN (6, 7, 6000, 7000) ORDER BY id"),
            await test.TargetRowsAsync("SELECT id, name, qty FROM items WHERE id IN (6, 7, 6000, 7000) ORDER BY id"));
    }

    [Fact]
    public async Task A_table_without_a_primary_key_is_refused_at_start_naming_it_and_the_setting_when_the_row_image_is_not_full()
    {
        var test = await fixture.NewCaseAsync("keyless", Schema);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await fixture.Source.ExecuteAsync("", "SET GLOBAL binlog_row_image = 'MINIMAL'");
        try
        {
            await using var session = await ReplicationSession.OpenAsync(test.SourceAddress, test.TargetAddress, MySqlStreamCase.Options("keyless"),
                MoltLogSession.None(), timeout.Token);
            var error = await Assert.ThrowsAsync<MoltException>(async () =>
                await session.StartAsync(await session.PlanAsync(timeout.Token), new BulkLoadCallbacks(), _ => { }, null, timeout.Token));
            Assert.Equal("KeylessTableNeedsFullRowImage", error.ErrorId);
            Assert.Contains($"{test.SourceDatabase}.notes", error.Message);
            Assert.Contains("binlog_row_image = MINIMAL", error.Message);
        }
        finally
        {
            await fixture.Source.ExecuteAsync("", "SET GLOBAL binlog_row_image = 'FULL'");
        }
    }

    [Fact]
    public async Task A_checkpoint_whose_binlog_the_source_purged_fails_the_resume_with_an_error_naming_the_position_and_the_retention()
    {
        var test = await fixture.NewCaseAsync("purged", Schema);
        var options = MySqlStreamCase.Options("purged");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (session, running) = await test.StartAsync(options, timeout.Token);
        ReplicationStatus stopped;
        await using (session)
        {
            await test.SourceAsync("INSERT INTO logs VALUES (3, 'streamed')");
            await ReplicationControl.RequestStopAsync(test.TargetAddress, "purged", immediately: false, timeout.Token);
            stopped = await running;
        }

        // Written after the checkpoint, then rotated away and purged: the resume cannot get them.
        await test.SourceAsync("INSERT INTO logs VALUES (4, 'lost')");
        await fixture.Source.ExecuteAsync("", "FLUSH BINARY LOGS");
        await PurgeToCurrentAsync(fixture);
        var error = await Assert.ThrowsAsync<MoltException>(() => test.ResumeToEndAsync(options, timeout.Token));
        Assert.Equal("BinlogPositionPurged", error.ErrorId);
        Assert.Contains(stopped.SourcePosition!.ToString(), error.Message);
        Assert.Contains("expire_logs", error.Message);
        Assert.Equal("1|one\n2|two\n3|streamed", await test.TargetRowsAsync("SELECT id, line FROM logs ORDER BY id"));
    }

    [Fact]
    public async Task A_resume_told_to_stop_at_a_GTID_position_applies_exactly_the_transactions_up_to_it()
    {
        var test = await fixture.NewCaseAsync("stopat", Schema);
        var options = MySqlStreamCase.Options("stopat");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (session, running) = await test.StartAsync(options, timeout.Token);
        await using (session)
        {
            await ReplicationControl.RequestStopAsync(test.TargetAddress, "stopat", immediately: false, timeout.Token);
            await running;
        }

        await test.SourceAsync("INSERT INTO logs VALUES (3, 'first')");
        await test.SourceAsync("INSERT INTO logs VALUES (4, 'second')");
        var at = await test.SourceScalarAsync<string>("SELECT @@global.gtid_binlog_pos");
        await test.SourceAsync("INSERT INTO logs VALUES (5, 'after the stop position')");

        ReplicationStatus stopped;
        await using (var resumed = await ReplicationSession.OpenAsync(test.SourceAddress, test.TargetAddress, options with { StopAt = at }, MoltLogSession.None(),
            timeout.Token))
        {
            stopped = await resumed.ResumeAsync(null, timeout.Token);
        }

        Assert.Equal(at, stopped.SourcePosition!.ToString());
        Assert.Equal("1|one\n2|two\n3|first\n4|second", await test.TargetRowsAsync("SELECT id, line FROM logs ORDER BY id"));
        await test.ResumeToEndAsync(options, timeout.Token);
        Assert.Equal("5|after the stop position", await test.TargetRowsAsync("SELECT id, line FROM logs WHERE id = 5"));
    }

    [Fact]
    public async Task Without_row_metadata_in_the_binlog_signedness_labels_and_binary_padding_come_from_the_catalog_and_stream_as_they_load()
    {
        const string wide = """
            CREATE TABLE wide (id int PRIMARY KEY, tu tinyint unsigned, mu mediumint unsigned, iu int unsigned, bu bigint unsigned, e enum('x','y','z'),
                               st set('a','b','c'), bn binary(4), ch char(5) CHARACTER SET latin1, d date, ts timestamp(3) NULL, t time(2));
            INSERT INTO wide VALUES (0, 255, 16777215, 4294967295, 18446744073709551615, 'z', 'a,c', 0x61000000, 'é', '2024-02-29',
                                     '2024-01-01 10:00:00.123', '-838:59:59.99');
            """;
        const string rows = "SELECT tu, mu, iu, bu, e, st, bn, ch, d, ts, t FROM wide ORDER BY id";
        var test = await fixture.NewCaseAsync("nometa", wide);
        var options = MySqlStreamCase.Options("nometa");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await fixture.Source.ExecuteAsync("", "SET GLOBAL binlog_row_metadata = 'NO_LOG'");
        try
        {
            var (session, running) = await test.StartAsync(options, timeout.Token);
            await using (session)
            {
                await test.SourceAsync("INSERT INTO wide SELECT 1, tu, mu, iu, bu, e, st, bn, ch, d, ts, t FROM wide WHERE id = 0");
                await ReplicationControl.RequestStopAsync(test.TargetAddress, "nometa", immediately: false, timeout.Token);
                await running;
            }
        }
        finally
        {
            await fixture.Source.ExecuteAsync("", "SET GLOBAL binlog_row_metadata = 'FULL'");
        }

        var target = (await test.TargetRowsAsync(rows)).Split('\n');
        Assert.Equal(2, target.Length);
        Assert.Equal(target[0], target[1]);
        Assert.StartsWith("255|16777215|4294967295|18446744073709551615|z|a,c|61000000|é|", target[1]);
    }

    [Fact]
    public async Task A_slot_named_for_a_binlog_source_is_refused_before_anything_is_read()
    {
        var test = await fixture.NewCaseAsync("noslot", Schema);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var error = await Assert.ThrowsAsync<MoltException>(() => ReplicationSession.OpenAsync(test.SourceAddress, test.TargetAddress,
            MySqlStreamCase.Options("noslot") with { SlotName = "molt_noslot" }, MoltLogSession.None(), timeout.Token));
        Assert.Equal(("ReplicationSlotNotApplicable", MoltErrorKind.InvalidArgument), (error.ErrorId, error.Kind));
    }

    /// <summary>
    /// Purges every binlog but the current one. MariaDB keeps a file until its binlog checkpoint (InnoDB's crash recovery)
    /// and its readers have moved past it, which happens shortly after a rotation, so the purge is repeated until it took.
    /// </summary>
    internal static async Task PurgeToCurrentAsync(MySqlReplicationFixture fixture)
    {
        await using var connection = new MySqlConnector.MySqlConnection(fixture.Source.ConnectionString());
        await connection.OpenAsync();
        await SessionTestSupport.WaitUntilAsync(async () =>
        {
            var file = await ScalarAsync(connection, "SHOW MASTER STATUS");
            await using (var purge = new MySqlConnector.MySqlCommand($"PURGE BINARY LOGS TO '{file}'", connection))
            {
                await purge.ExecuteNonQueryAsync();
            }

            return await ScalarAsync(connection, "SHOW BINARY LOGS") == file;
        });
    }

    private static async Task<string> ScalarAsync(MySqlConnector.MySqlConnection connection, string sql)
    {
        await using var command = new MySqlConnector.MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return reader.GetString(0);
    }
}
