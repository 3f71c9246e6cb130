using Molt.Engine.Replication;
using Xunit.Abstractions;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// Failback into a MariaDB table with a secondary UNIQUE key, where INSERT ... ON DUPLICATE KEY UPDATE would also fire
/// on that key and update whichever row holds the value: such rows are written by primary key instead.
/// </summary>
[Collection(MySqlReplicationCollection.Name)]
public sealed class MySqlFailbackUniqueKeyTests(MySqlReplicationFixture fixture, ITestOutputHelper output)
{
    // email is unique in MariaDB's default utf8mb4 collation (case-insensitive), and in PostgreSQL's (case-sensitive) on the target.
    private const string Schema = """
        CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL, name VARCHAR(20) NOT NULL, UNIQUE KEY users_email (email)) DEFAULT CHARSET = utf8mb4;
        INSERT INTO users SELECT seq, CONCAT('u', seq, '@x'), CONCAT('user ', seq) FROM seq_1_to_20;
        """;

    private const string Rows = "SELECT CONCAT_WS('|', id, email, name) FROM users ORDER BY id";

    [Fact]
    public async Task A_swap_of_unique_values_and_a_unique_value_deleted_or_moved_and_reinserted_on_another_key_come_back_onto_the_right_rows()
    {
        await using var run = await MySqlFailbackRun.CutOverAsync(fixture, "myfb_unique", Schema, output, ("users", "id"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        // Each in one target transaction: a swap of two rows' emails (through a free value, as a non-deferrable unique needs),
        // a row deleted and its email inserted on a new key, a row's email changed and the old one inserted on a new key,
        // and a new row under the fast path's conditions for comparison (no collision at all).
        await run.Test.TargetAsync("""
            BEGIN;
            UPDATE users SET email = 'swap' WHERE id = 1;
            UPDATE users SET email = 'u1@x' WHERE id = 2;
            UPDATE users SET email = 'u2@x', name = 'swapped' WHERE id = 1;
            COMMIT;
            BEGIN;
            DELETE FROM users WHERE id = 3;
            INSERT INTO users VALUES (103, 'u3@x', 'reinserted');
            COMMIT;
            BEGIN;
            UPDATE users SET email = 'u4-old@x' WHERE id = 4;
            INSERT INTO users VALUES (104, 'u4@x', 'took it');
            COMMIT;
            INSERT INTO users VALUES (105, 'new@x', 'plain');
            """);

        var final = await run.FailBackToEndAsync(timeout.Token);

        Assert.Equal(ReplicationState.Stopped, final.State);
        Assert.Equal((3L, 4L, 1L), (final.Inserts, final.Updates, final.Deletes));
        Assert.Equal(await run.Test.TargetRowsAsync("SELECT concat_ws('|', id, email, name) FROM users ORDER BY id"), await run.Test.SourceRowsAsync(Rows));
        // Each change once, on its own row: an email's collision never turned an insert into an update of the row holding it.
        Assert.Equal((3L, 4L, 0L), (await run.AppliedAsync("users", 'i'), await run.AppliedAsync("users", 'u'), await run.InsertedTwiceAsync("users")));
        Assert.Equal("1|1|1|2|2", await run.Test.SourceScalarAsync<string>(
            "SELECT CONCAT_WS('|', SUM(id = 103 AND kind = 'i'), SUM(id = 104 AND kind = 'i'), SUM(id = 105 AND kind = 'i'), SUM(id = 1 AND kind = 'u'), SUM(id IN (2, 4) AND kind = 'u')) FROM applied"));
        await run.AssertComparedEqualAsync("users");
    }

    [Fact]
    public async Task A_row_whose_unique_value_the_originals_collation_finds_on_another_row_is_refused_naming_the_key_and_that_other_row_is_left_alone()
    {
        await using var run = await MySqlFailbackRun.CutOverAsync(fixture, "myfb_unique_ci", Schema, output, ("users", "id"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using (var failback = await run.OpenAsync(run.Options(), timeout.Token))
        {
            var running = failback.RunAsync(null, timeout.Token);
            await run.Test.TargetAsync("UPDATE users SET name = 'first' WHERE id = 6");
            await SessionTestSupport.WaitUntilAsync(async () => running.IsCompleted || await run.Test.SourceScalarAsync<string>("SELECT name FROM users WHERE id = 6") == "first");
            var checkpointAt = await run.Test.TargetScalarAsync<string>("SELECT pg_current_wal_lsn()::text");
            // Legal on the target, whose text compares case-sensitively; MariaDB's collation finds 'u5@x' in it. ON DUPLICATE
            // KEY UPDATE would have overwritten row 5 with row 200's name and email and left row 200 out.
            await run.Test.TargetAsync("INSERT INTO users VALUES (200, 'U5@X', 'upper')");

            var error = await Assert.ThrowsAsync<MoltException>(() => running);

            Assert.Equal(("FailbackApplyFailed", MoltErrorKind.DataRejected), (error.ErrorId, error.Kind));
            Assert.Contains("Duplicate entry", error.Message, StringComparison.Ordinal);
            Assert.Contains("users_email", error.Message, StringComparison.Ordinal);
            Assert.Contains("collation", error.Remedy, StringComparison.Ordinal);
            Assert.Equal("5|u5@x|user 5", await run.Test.SourceScalarAsync<string>("SELECT CONCAT_WS('|', id, email, name) FROM users WHERE id = 5"));
            Assert.Equal(0L, await run.Test.SourceScalarAsync<long>("SELECT COUNT(*) FROM users WHERE id = 200"));
            // The batch before the refused one is in, with its checkpoint; nothing of the refused one.
            Assert.Equal("first", await run.Test.SourceScalarAsync<string>("SELECT name FROM users WHERE id = 6"));
            var checkpoint = await run.Test.SourceScalarAsync<string>($"SELECT position FROM `_molt`.`replication_checkpoints` WHERE fetch_id = '{run.FetchId}'");
            Assert.True(await run.Test.TargetScalarAsync<bool>($"SELECT '{checkpoint}'::pg_lsn <= '{checkpointAt}'::pg_lsn"), $"checkpoint {checkpoint} is past {checkpointAt}");
            Assert.Equal((0L, 1L), (await run.AppliedAsync("users", 'i'), await run.AppliedAsync("users", 'u')));
        }

        // The fix the remedy names: the original's key compares as the target's does; failback then goes on from its checkpoint.
        await run.Test.SourceAsync("ALTER TABLE users MODIFY email VARCHAR(50) COLLATE utf8mb4_bin NOT NULL");
        await run.Test.TargetAsync("UPDATE users SET name = 'later' WHERE id = 200");
        var final = await run.FailBackToEndAsync(timeout.Token);
        Assert.Equal(ReplicationState.Stopped, final.State);
        Assert.Equal(await run.Test.TargetRowsAsync("SELECT concat_ws('|', id, email, name) FROM users ORDER BY id"), await run.Test.SourceRowsAsync(Rows));
        Assert.Equal((1L, 2L), (await run.AppliedAsync("users", 'i'), await run.AppliedAsync("users", 'u')));
        await run.AssertComparedEqualAsync("users");
    }
}
