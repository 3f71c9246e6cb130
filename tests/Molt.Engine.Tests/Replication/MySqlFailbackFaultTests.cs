using Molt.Engine.Replication;
using Molt.Engine.Sessions;
using MySqlConnector;
using Npgsql;
using Xunit.Abstractions;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// Failback into MariaDB with things going wrong under it: the original restarted (cleanly, and killed with SIGKILL),
/// a deadlock with another session on the original, a column added on the target. Each ends with the original equal to
/// the target (Compare Equal), and MariaDB triggers show every change applied exactly once.
/// </summary>
[Collection(MySqlReplicationCollection.Name)]
public sealed class MySqlFailbackFaultTests(MySqlReplicationFixture fixture, ITestOutputHelper output)
{
    private const string ApplyRetry = "Applying the batch again";

    private const string Schema = """
        CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL);
        CREATE TABLE history (id BIGINT PRIMARY KEY, account_id INT NOT NULL, delta INT NOT NULL);
        CREATE TABLE side (n INT PRIMARY KEY);
        INSERT INTO accounts SELECT seq, 0 FROM seq_1_to_100;
        """;

    private const string Accounts = "SELECT CONCAT_WS('|', id, balance) FROM accounts ORDER BY id";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_original_restarted_mid_failback_is_written_again_once_it_is_back_and_nothing_is_lost_or_applied_twice(bool killed)
    {
        const int transactions = 150;
        await using var run = await MySqlFailbackRun.CutOverAsync(fixture, killed ? "myfb_crash" : "myfb_restart", Schema, output, ("accounts", "id"), ("history", "id"));
        // 20 ms a history row on the original, so that failback is still applying when the server goes away, however idle the machine.
        await run.Test.SourceAsync("CREATE TRIGGER slow BEFORE INSERT ON history FOR EACH ROW SET NEW.delta = IF(SLEEP(0.02) = 0, NEW.delta, NEW.delta)");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await using var failback = await run.OpenAsync(run.Options(), timeout.Token);
        var running = failback.RunAsync(null, timeout.Token);
        var writer = WriteOnTargetAsync(run.Test, transactions, timeout.Token);

        await SessionTestSupport.WaitUntilAsync(async () => running.IsCompleted || await run.AppliedAsync("history", 'i') >= 20, TimeSpan.FromSeconds(90));
        Assert.False(running.IsCompleted, running.Exception?.ToString());
        await fixture.Source.RestartAsync(crash: killed, timeout.Token);
        await writer;
        await SessionTestSupport.WaitUntilAsync(async () => running.IsCompleted || await run.AppliedAsync("history", 'i') >= transactions, TimeSpan.FromSeconds(150));
        Assert.False(running.IsCompleted, running.Exception?.ToString());
        await ReplicationControl.RequestStopAsync(run.Test.TargetAddress, run.FetchId, immediately: false, ReplicationDirection.Failback, timeout.Token);
        var stopped = await running;

        Assert.Equal((ReplicationState.Stopped, ReplicationDirection.Failback), (stopped.State, stopped.Direction));
        Assert.True(stopped.Retries > 0, "The final status counts no retry.");
        Assert.True(run.Logged(ApplyRetry) > 0, "No batch was applied again.");
        Assert.Equal((long)transactions, stopped.Inserts);
        Assert.Equal((long)transactions, stopped.Updates);
        Assert.Equal(await run.Test.TargetRowsAsync("SELECT concat_ws('|', id, balance) FROM accounts ORDER BY id"), await run.Test.SourceRowsAsync(Accounts));
        // Every history row inserted once and every account update made once, however many batches the restart rolled back.
        Assert.Equal(((long)transactions, (long)transactions, 0L),
            (await run.AppliedAsync("history", 'i'), await run.AppliedAsync("accounts", 'u'), await run.InsertedTwiceAsync("history")));
        await run.AssertComparedEqualAsync("accounts", "history", "side");
    }

    [Fact]
    public async Task A_deadlock_with_another_session_on_the_original_is_retried_and_counted_and_nothing_is_applied_twice()
    {
        await using var run = await MySqlFailbackRun.CutOverAsync(fixture, "myfb_deadlock", Schema, output, ("accounts", "id"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        // Another session on the original holds row 2, and has written enough elsewhere that InnoDB picks failback's
        // transaction (row 1 written, waiting for row 2) as the deadlock's victim once that session asks for row 1.
        await using var other = new MySqlConnection(fixture.Source.ConnectionString(run.Test.SourceDatabase));
        await other.OpenAsync(timeout.Token);
        await using var otherTransaction = await other.BeginTransactionAsync(timeout.Token);
        await ExecuteAsync(other, otherTransaction, "INSERT INTO side SELECT seq FROM seq_1_to_2000; SELECT * FROM accounts WHERE id = 2 FOR UPDATE");
        await run.Test.TargetAsync("BEGIN; UPDATE accounts SET balance = 11 WHERE id = 1; UPDATE accounts SET balance = 22 WHERE id = 2; COMMIT;");

        await using var failback = await run.OpenAsync(run.Options(), timeout.Token);
        var running = failback.RunAsync(null, timeout.Token);
        // Failback's statement waiting for row 2: InnoDB's own view, or (where that view lags) its statement still running on
        // accounts after a second, which only that lock makes it do.
        await SessionTestSupport.WaitUntilAsync(async () => running.IsCompleted ||
            await run.Test.SourceScalarAsync<long>("SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'") > 0 ||
            await run.Test.SourceScalarAsync<long>("""
                SELECT COUNT(*) FROM information_schema.PROCESSLIST
                WHERE COMMAND = 'Query' AND TIME >= 1 AND ID <> CONNECTION_ID() AND INFO LIKE '%accounts%' AND INFO NOT LIKE '%FOR UPDATE%'
                """) > 0);
        Assert.False(running.IsCompleted, running.Exception?.ToString());
        await ExecuteAsync(other, otherTransaction, "SELECT * FROM accounts WHERE id = 1 FOR UPDATE");
        await otherTransaction.RollbackAsync(timeout.Token);
        await SessionTestSupport.WaitUntilAsync(async () => running.IsCompleted || await run.AppliedAsync("accounts", 'u') >= 2);
        await ReplicationControl.RequestStopAsync(run.Test.TargetAddress, run.FetchId, immediately: false, ReplicationDirection.Failback, timeout.Token);
        var stopped = await running;

        Assert.Equal(ReplicationState.Stopped, stopped.State);
        Assert.True(stopped.Retries >= 1, "The deadlocked batch was not counted as retried.");
        Assert.True(run.Logged(ApplyRetry) > 0, "No batch was applied again.");
        Assert.Equal(2L, stopped.Updates);
        Assert.Equal("1|11\n2|22", await run.Test.SourceRowsAsync("SELECT CONCAT_WS('|', id, balance) FROM accounts WHERE id <= 2 ORDER BY id"));
        Assert.Equal("2|1|1", await run.Test.SourceScalarAsync<string>("SELECT CONCAT_WS('|', COUNT(*), SUM(id = 1), SUM(id = 2)) FROM applied WHERE kind = 'u'"));
        await run.AssertComparedEqualAsync("accounts", "history", "side");
    }

    [Fact]
    public async Task A_column_added_on_the_target_stops_failback_into_MariaDB_naming_the_change_and_once_the_original_has_it_failback_goes_on()
    {
        await using var run = await MySqlFailbackRun.CutOverAsync(fixture, "myfb_ddl", Schema, output, ("accounts", "id"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using (var failback = await run.OpenAsync(run.Options(), timeout.Token))
        {
            var running = failback.RunAsync(null, timeout.Token);
            await run.Test.TargetAsync("UPDATE accounts SET balance = balance + 1 WHERE id <= 50");
            await SessionTestSupport.WaitUntilAsync(async () => running.IsCompleted || await run.AppliedAsync("accounts", 'u') == 50);
            var changedAt = await run.Test.TargetScalarAsync<string>("SELECT pg_current_wal_lsn()::text");

            await run.Test.TargetAsync("""
                ALTER TABLE accounts ADD COLUMN note text;
                UPDATE accounts SET balance = balance + 1, note = 'after the change' WHERE id <= 10;
                """);
            var error = await Assert.ThrowsAsync<MoltException>(() => running);

            Assert.Equal(("SchemaChanged", MoltErrorKind.SchemaMismatch), (error.ErrorId, error.Kind));
            Assert.Contains("column \"note\" (text) was added", error.Message, StringComparison.Ordinal);
            Assert.Contains("original", error.Remedy, StringComparison.Ordinal);
            Assert.Contains("Invoke-MoltFailback", error.Remedy, StringComparison.Ordinal);
            var checkpoint = await run.Test.SourceScalarAsync<string>($"SELECT position FROM `_molt`.`replication_checkpoints` WHERE fetch_id = '{run.FetchId}'");
            Assert.True(await run.Test.TargetScalarAsync<bool>($"SELECT '{checkpoint}'::pg_lsn < '{changedAt}'::pg_lsn"), $"checkpoint {checkpoint} is past {changedAt}");
            Assert.Equal(50L, await run.Test.SourceScalarAsync<long>("SELECT SUM(balance) FROM accounts"));
            var status = Assert.Single(await ReplicationControl.ReadStatusAsync(run.Test.TargetAddress, run.FetchId, timeout.Token), s => s.Direction == ReplicationDirection.Failback);
            Assert.Equal((ReplicationState.Failed, error.Message), (status.State, status.Error));
        }

        await run.Test.SourceAsync("ALTER TABLE accounts ADD COLUMN note TEXT");
        await run.Test.TargetAsync("UPDATE accounts SET note = 'later' WHERE id = 60");
        var resumed = await run.FailBackToEndAsync(timeout.Token);

        Assert.Equal(ReplicationState.Stopped, resumed.State);
        Assert.Equal(61L, resumed.Updates);
        Assert.Equal(await run.Test.TargetRowsAsync("SELECT concat_ws('|', id, balance, coalesce(note, '-')) FROM accounts ORDER BY id"),
            await run.Test.SourceRowsAsync("SELECT CONCAT_WS('|', id, balance, COALESCE(note, '-')) FROM accounts ORDER BY id"));
        Assert.Equal(61L, await run.AppliedAsync("accounts", 'u'));
        await run.AssertComparedEqualAsync("accounts", "history", "side");
    }

    /// <summary>The application on the target: each transaction one account update and one history row with a key of its own.</summary>
    private async Task WriteOnTargetAsync(MySqlStreamCase test, int transactions, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(fixture.Target.ConnectionString(test.TargetDatabase));
        await connection.OpenAsync(cancellationToken);
        for (var i = 1; i <= transactions; i++)
        {
            await using var command = new NpgsqlCommand(
                $"BEGIN; UPDATE accounts SET balance = balance + {i} WHERE id = {i % 100 + 1}; INSERT INTO history VALUES ({i}, {i % 100 + 1}, {i}); COMMIT;", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
            await Task.Delay(10, cancellationToken);
        }
    }

    private static async Task ExecuteAsync(MySqlConnection connection, MySqlTransaction transaction, string sql)
    {
        await using var command = new MySqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync();
    }
}
