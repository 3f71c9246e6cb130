using Molt.Engine.Replication;
using Molt.Engine.Sessions;
using Molt.Engine.Tests.Verify;
using Molt.Engine.Verify;
using MySqlConnector;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// MySQL-family replication under what a production source does: compressed binlogs, transactions over 16 MB, several
/// writers through the load and the stream, a restart mid-stream, and binlogs purged under a stopped stream.
/// </summary>
[Collection(MySqlReplicationCollection.Name)]
public sealed class MySqlReplicationFaultTests(MySqlReplicationFixture fixture)
{
    private const string Schema = """
        CREATE TABLE accounts (id INT PRIMARY KEY, writer INT NOT NULL, balance BIGINT NOT NULL, note VARCHAR(200));
        CREATE TABLE journal (writer INT NOT NULL, seq INT NOT NULL, amount BIGINT NOT NULL);
        CREATE TABLE blobs (id INT PRIMARY KEY, body LONGBLOB NOT NULL);
        INSERT INTO accounts SELECT seq, 0, seq * 10, repeat('seed ', 20) FROM seq_1_to_500;
        """;

    private const string AccountDigest = "md5(string_agg(concat_ws(',', id, writer, balance, note), ';' ORDER BY id))";

    [Fact]
    public async Task Compressed_binlog_events_of_mariadb_stream_and_apply()
    {
        var test = await fixture.NewCaseAsync("compressed", Schema);
        await using var compressed = await CompressBinlogAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var options = MySqlStreamCase.Options("mysql-compressed");

        var (session, running) = await test.StartAsync(options, timeout.Token);
        await using (session)
        {
            await test.SourceAsync("START TRANSACTION; INSERT INTO accounts SELECT 1000 + seq, 1, seq, repeat('compressible ', 15) FROM seq_1_to_300; " +
                "UPDATE accounts SET balance = balance + 7, note = concat(note, ' updated') WHERE id <= 100; DELETE FROM accounts WHERE id BETWEEN 400 AND 450; COMMIT;");
            await test.SourceAsync("UPDATE accounts SET note = repeat('z', 190) WHERE id = 1");
            await ReplicationControl.RequestStopAsync(test.TargetAddress, "mysql-compressed", immediately: false, timeout.Token);
            var stopped = await running;
            Assert.Equal(ReplicationState.Stopped, stopped.State);
            Assert.Equal(300, stopped.Inserts);
            Assert.Equal(101, stopped.Updates);
            Assert.Equal(51, stopped.Deletes);
        }

        Assert.Contains(await BinlogEventTypesAsync(), t => t.Contains("compressed", StringComparison.OrdinalIgnoreCase));
        await AssertAccountsEqualAsync(test);
    }

    [Fact]
    public async Task A_transaction_larger_than_16_mb_applies_whole()
    {
        var test = await fixture.NewCaseAsync("large", Schema);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var options = MySqlStreamCase.Options("mysql-large");
        var (session, running) = await test.StartAsync(options, timeout.Token);
        await using (session)
        {
            await using (var connection = await OpenSourceAsync(test))
            await using (var transaction = await connection.BeginTransactionAsync(timeout.Token))
            {
                // Random bytes: compression cannot shrink them below the size that matters.
                for (var id = 1; id <= 3; id++)
                {
                    await using var insert = new MySqlCommand("INSERT INTO blobs VALUES (@id, @body)", connection, transaction);
                    insert.Parameters.AddWithValue("@id", id);
                    insert.Parameters.AddWithValue("@body", System.Security.Cryptography.RandomNumberGenerator.GetBytes(6 * 1024 * 1024));
                    await insert.ExecuteNonQueryAsync(timeout.Token);
                }

                await using var marker = new MySqlCommand("UPDATE accounts SET balance = -1 WHERE id = 1", connection, transaction);
                await marker.ExecuteNonQueryAsync(timeout.Token);
                await transaction.CommitAsync(timeout.Token);
            }

            await ReplicationControl.RequestStopAsync(test.TargetAddress, "mysql-large", immediately: false, timeout.Token);
            var stopped = await running;
            Assert.Equal(ReplicationState.Stopped, stopped.State);
            Assert.Equal(1, stopped.Transactions);
            Assert.Equal(3, stopped.Inserts);
        }

        Assert.Equal(await test.SourceScalarAsync<string>("SELECT GROUP_CONCAT(id, ':', LENGTH(body), ':', MD5(body) ORDER BY id) FROM blobs"),
            await test.TargetScalarAsync<string>("SELECT string_agg(id || ':' || length(body) || ':' || md5(body), ',' ORDER BY id) FROM blobs"));
        Assert.Equal(-1, await test.TargetScalarAsync<long>("SELECT balance FROM accounts WHERE id = 1"));
    }

    [Fact]
    public async Task Several_writers_through_the_load_and_the_stream_end_equal_at_the_source_end_with_no_duplicates()
    {
        var test = await fixture.NewCaseAsync("writers", Schema);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var stopWriting = new CancellationTokenSource();
        var options = MySqlStreamCase.Options("mysql-writers");
        var writers = Enumerable.Range(1, 4).Select(w => WriteAsync(test, w, stopWriting.Token)).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(1), timeout.Token);

        var (session, running) = await test.StartAsync(options, timeout.Token);
        await using (session)
        {
            await Task.Delay(TimeSpan.FromSeconds(3), timeout.Token);
            await stopWriting.CancelAsync();
            var written = await Task.WhenAll(writers);
            Assert.All(written, n => Assert.True(n > 10, $"A writer committed only {n} transactions."));
            await ReplicationControl.RequestStopAsync(test.TargetAddress, "mysql-writers", immediately: false, timeout.Token);
            Assert.Equal(ReplicationState.Stopped, (await running).State);
        }

        await AssertAccountsEqualAsync(test);
        const string Journal = "count(*), count(DISTINCT (writer, seq)), sum(amount)";
        Assert.Equal(await test.SourceScalarAsync<string>("SELECT concat(count(*), ' ', count(DISTINCT writer, seq), ' ', sum(amount)) FROM journal"),
            await test.TargetScalarAsync<string>($"SELECT concat_ws(' ', {Journal}) FROM journal"));
        Assert.Equal(0, await test.TargetScalarAsync<long>("SELECT count(*) FROM (SELECT writer, seq FROM journal GROUP BY writer, seq HAVING count(*) > 1) d"));
        var (compared, differences) = await CompareHarness.CompareAsync(test.SourceUri, test.TargetUri, new CompareOptions(), timeout.Token);
        Assert.All(compared, c => Assert.Equal(ComparisonStatus.Equal, c.Status));
        Assert.Empty(differences);
    }

    [Fact]
    public async Task A_source_restarted_mid_stream_is_reconnected_to_and_nothing_is_lost_or_applied_twice()
    {
        var test = await fixture.NewCaseAsync("restart", Schema);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var options = MySqlStreamCase.Options("mysql-restart");
        var (session, running) = await test.StartAsync(options, timeout.Token);
        await using (session)
        {
            await test.SourceAsync("INSERT INTO journal SELECT 1, seq, seq FROM seq_1_to_100; UPDATE accounts SET balance = balance + 1 WHERE id <= 50");
            await SessionTestSupport.WaitUntilAsync(async () => await test.TargetScalarAsync<long>("SELECT count(*) FROM journal") == 100);

            await fixture.Source.RestartAsync(timeout.Token);
            Assert.False(running.IsCompleted, running.Exception?.ToString());

            await test.SourceAsync("INSERT INTO journal SELECT 2, seq, seq FROM seq_1_to_100; DELETE FROM accounts WHERE id > 450");
            await ReplicationControl.RequestStopAsync(test.TargetAddress, "mysql-restart", immediately: false, timeout.Token);
            var stopped = await running;
            Assert.Equal(ReplicationState.Stopped, stopped.State);
        }

        Assert.Equal("200 200 10100", await test.TargetScalarAsync<string>("SELECT concat_ws(' ', count(*), count(DISTINCT (writer, seq)), sum(amount)) FROM journal"));
        await AssertAccountsEqualAsync(test);
    }

    [Fact]
    public async Task A_resume_from_a_purged_binlog_position_fails_naming_the_position_and_the_retention_setting()
    {
        var test = await fixture.NewCaseAsync("purged", Schema);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var options = MySqlStreamCase.Options("mysql-purged");
        var (session, running) = await test.StartAsync(options, timeout.Token);
        await using (session)
        {
            await test.SourceAsync("INSERT INTO journal VALUES (1, 1, 1)");
            await ReplicationControl.RequestStopAsync(test.TargetAddress, "mysql-purged", immediately: false, timeout.Token);
            await running;
        }

        var checkpoint = await test.TargetScalarAsync<string>("SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'mysql-purged'");
        // Changes after the checkpoint, then their binlog file purged: the resume cannot read them.
        await test.SourceAsync("INSERT INTO journal VALUES (1, 2, 2); FLUSH BINARY LOGS");
        var current = await test.SourceScalarAsync<string>("SHOW MASTER STATUS");
        // MariaDB keeps a file a dump thread still reads or crash recovery still needs (until InnoDB's log is flushed): purge until it is gone.
        await SessionTestSupport.WaitUntilAsync(async () =>
        {
            await test.SourceAsync($"FLUSH ENGINE LOGS; PURGE BINARY LOGS TO '{current}'");
            return await test.SourceScalarAsync<string>("SHOW BINARY LOGS") == current;
        });

        var error = await Assert.ThrowsAsync<MoltException>(() => test.ResumeToEndAsync(options, timeout.Token));

        Assert.Equal("BinlogPositionPurged", error.ErrorId);
        Assert.Contains(checkpoint!, error.Message, StringComparison.Ordinal);
        Assert.Contains("expire_logs", error.Remedy, StringComparison.Ordinal);
        Assert.Equal(1, await test.TargetScalarAsync<long>("SELECT count(*) FROM journal"));
    }

    /// <summary>One writer's own connection: inserts, updates and deletes on its own accounts and journal rows, until told to stop.</summary>
    private async Task<int> WriteAsync(MySqlStreamCase test, int writer, CancellationToken stop)
    {
        await using var connection = await OpenSourceAsync(test);
        var committed = 0;
        var random = new Random(writer);
        while (!stop.IsCancellationRequested)
        {
            var seq = committed + 1;
            var id = writer * 100_000 + seq;
            var delete = seq % 5 == 0 ? FormattableString.Invariant($"DELETE FROM accounts WHERE id = {id - 3}; ") : "";
            var sql = FormattableString.Invariant(
                $"START TRANSACTION; INSERT INTO accounts VALUES ({id}, {writer}, {seq}, 'w{writer} #{seq}'); ") +
                FormattableString.Invariant(
                    $"UPDATE accounts SET balance = balance + {random.Next(1, 100)}, note = concat(left(note, 150), '+') WHERE id = {writer * 100_000 + random.Next(1, seq + 1)}; ") +
                FormattableString.Invariant($"INSERT INTO journal VALUES ({writer}, {seq}, {random.Next(-50, 50)}); ") + delete + "COMMIT;";
            await using var command = new MySqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
            committed++;
        }

        return committed;
    }

    private async Task<MySqlConnection> OpenSourceAsync(MySqlStreamCase test)
    {
        var connection = new MySqlConnection(fixture.Source.ConnectionString(test.SourceDatabase));
        await connection.OpenAsync();
        return connection;
    }

    private static async Task AssertAccountsEqualAsync(MySqlStreamCase test)
    {
        var source = await test.SourceScalarAsync<string>(
            "SELECT concat(count(*), ' ', sum(balance), ' ', md5(group_concat(concat_ws(',', id, writer, balance, note) ORDER BY id SEPARATOR ';'))) " +
            "FROM accounts");
        Assert.Equal(source, await test.TargetScalarAsync<string>($"SELECT concat_ws(' ', count(*), sum(balance), {AccountDigest}) FROM accounts"));
    }

    /// <summary>Turns log_bin_compress on for the test (every event over 10 bytes compressed) and off again when disposed.</summary>
    private async Task<IAsyncDisposable> CompressBinlogAsync()
    {
        await fixture.Source.ExecuteAsync("", "SET GLOBAL log_bin_compress = ON; SET GLOBAL log_bin_compress_min_len = 10");
        return new Restore(() => fixture.Source.ExecuteAsync("", "SET GLOBAL log_bin_compress = OFF; SET GLOBAL log_bin_compress_min_len = 256"));
    }

    private async Task<List<string>> BinlogEventTypesAsync()
    {
        var types = new List<string>();
        await using var connection = new MySqlConnection(fixture.Source.ConnectionString());
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SHOW MASTER STATUS", connection);
        var file = (string)(await command.ExecuteScalarAsync())!;
        command.CommandText = $"SHOW BINLOG EVENTS IN '{file}'";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            types.Add(reader.GetString(reader.GetOrdinal("Event_type")));
        }

        return types;
    }

    private sealed class Restore(Func<Task> undo) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await undo();
    }
}
