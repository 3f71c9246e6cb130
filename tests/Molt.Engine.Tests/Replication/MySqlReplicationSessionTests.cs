using Molt.Engine.Replication;
using Molt.Engine.Sessions;
using Molt.Engine.Tests.Verify;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Replication;

/// <summary>Start, stop and resume end to end from a real MariaDB source (its binlog) into a real PostgreSQL target.</summary>
[Collection(MySqlReplicationCollection.Name)]
public sealed class MySqlReplicationSessionTests(MySqlReplicationFixture fixture)
{
    internal const string Schema = """
        CREATE TABLE items (id int PRIMARY KEY, name varchar(40) NOT NULL, qty int unsigned NOT NULL, price decimal(12,2), at datetime(6),
                            kind enum('small','large'), body text);
        CREATE TABLE notes (n int, note varchar(40));
        INSERT INTO items SELECT seq, concat('item ', seq), seq * 3, seq / 4, '2024-01-02 03:04:05.123456' + INTERVAL seq MINUTE,
                                 IF(seq % 2 = 0, 'small', 'large'), repeat('x', seq) FROM seq_1_to_200;
        INSERT INTO notes VALUES (1, 'a'), (1, 'a'), (2, 'b');
        """;

    internal const string ItemRows = "SELECT id, name, qty, price, at, kind, body FROM items ORDER BY id";

    internal const string NoteRows = "SELECT n, note FROM notes ORDER BY n, note";

    [Fact]
    public async Task A_stream_started_under_concurrent_writes_stops_at_the_source_end_equal_and_a_resume_applies_nothing_twice()
    {
        var test = await fixture.NewCaseAsync("e2e", Schema);
        var options = MySqlStreamCase.Options("mysql-e2e");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var stopWriting = new CancellationTokenSource();
        var writer = SourceWriter.RunAsync(test, firstId: 1000, stopWriting.Token);

        ReplicationStatus stopped;
        var (session, running) = await test.StartAsync(options, timeout.Token);
        await using (session)
        {
            // Writes keep going while the stream runs, then stop; the stop drains to the source's end as it is then.
            await Task.Delay(TimeSpan.FromSeconds(3), timeout.Token);
            await stopWriting.CancelAsync();
            var written = await writer;
            Assert.True(written > 20, $"The writer committed only {written} transactions.");
            await ReplicationControl.RequestStopAsync(test.TargetAddress, "mysql-e2e", immediately: false, timeout.Token);
            stopped = await running;
        }

        Assert.Equal(ReplicationState.Stopped, stopped.State);
        Assert.Null(stopped.Slot);
        Assert.IsType<MariaDbGtidList>(stopped.SourcePosition);
        Assert.Equal(await test.SourceRowsAsync(ItemRows), await test.TargetRowsAsync(ItemRows));
        Assert.Equal(await test.SourceRowsAsync(NoteRows), await test.TargetRowsAsync(NoteRows));
        Assert.True(stopped.Inserts > 0 && stopped.Updates > 0 && stopped.Deletes > 0, $"{stopped.Inserts} inserts, {stopped.Updates} updates, {stopped.Deletes} deletes");
        var checkpoint = await test.TargetScalarAsync<string>("SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'mysql-e2e'");
        Assert.Equal(stopped.SourcePosition!.ToString(), checkpoint);

        // Written while nothing streams; the resume starts after the checkpoint, so the keyless duplicates come once.
        await test.SourceAsync("INSERT INTO notes VALUES (4, 'while stopped'), (4, 'while stopped'); UPDATE items SET qty = qty + 1 WHERE id <= 10");
        var resumed = await test.ResumeToEndAsync(options, timeout.Token);
        Assert.Equal(ReplicationState.Stopped, resumed.State);
        Assert.Equal(stopped.Transactions + 2, resumed.Transactions);
        Assert.Equal(await test.SourceRowsAsync(ItemRows), await test.TargetRowsAsync(ItemRows));
        Assert.Equal(await test.SourceRowsAsync(NoteRows), await test.TargetRowsAsync(NoteRows));
        Assert.Equal(await test.SourceScalarAsync<string>("SELECT concat(count(*), ' ', sum(qty), ' ', sum(price)) FROM items"),
            await test.TargetScalarAsync<string>("SELECT concat(count(*), ' ', sum(qty), ' ', sum(price)) FROM items"));

        // A resume with nothing new applies nothing.
        var again = await test.ResumeToEndAsync(options, timeout.Token);
        Assert.Equal(resumed.Transactions, again.Transactions);
        var (compared, differences) = await CompareHarness.CompareAsync(test.SourceUri, test.TargetUri, new CompareOptions(), timeout.Token);
        Assert.All(compared, c => Assert.Equal(ComparisonStatus.Equal, c.Status));
        Assert.Empty(differences);
    }
}

/// <summary>The tests' own source write load: small transactions of inserts, updates and deletes on both tables until told to stop.</summary>
internal static class SourceWriter
{
    public static async Task<int> RunAsync(MySqlStreamCase test, int firstId, CancellationToken stop)
    {
        var committed = 0;
        var id = firstId;
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            var n = committed;
            await test.SourceAsync(
                $"START TRANSACTION; INSERT INTO items VALUES ({id}, 'written {id}', {id % 7}, {id}.25, NOW(6), 'small', NULL), ({id + 1}, 'written {id + 1}', 1, NULL, NULL, NULL, 'b'); " +
                $"UPDATE items SET qty = qty + 1, name = concat(name, '+') WHERE id = {n % 200 + 1}; DELETE FROM items WHERE id = {id - 40}; " +
                $"INSERT INTO notes VALUES ({n % 5}, 'w{n % 3}'); COMMIT;");
            if (n % 4 == 0)
            {
                await test.SourceAsync($"DELETE FROM notes WHERE n = {n % 5} AND note = 'w{n % 3}' LIMIT 1");
            }

            committed++;
            id += 2;
        }

        return committed;
    }
}
