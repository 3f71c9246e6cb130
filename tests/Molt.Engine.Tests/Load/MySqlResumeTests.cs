using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.State;

namespace Molt.Engine.Tests.Load;

[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlResumeTests(MySqlSourceFixture fixture)
{
    // MySqlConnector may end a read it cancels with its own error (a killed query, a payload cut short) rather than
    // OperationCanceledException: the shard is interrupted all the same, not failed.
    [Fact]
    public async Task ACancelledMariaDbLoadIsInterruptedWithoutShardFailuresAndResumes()
    {
        var database = $"cancel_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            CREATE TABLE events (id BIGINT PRIMARY KEY, payload VARCHAR(300) NOT NULL);
            INSERT INTO events SELECT seq, REPEAT(MD5(seq), 8) FROM seq_1_to_300000;
            ANALYZE TABLE events;
            """);
        var target = await fixture.NewTargetAsync("mysql_cancel");
        var options = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, FetchId = "mysql-cancel", ShardsPerTable = 4 };
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database),
            fixture.Target.ConnectionUri(target), options, cancel.Token, p => { if (p.Rows >= 30_000) cancel.Cancel(); }));

        Assert.Equal(RunStatus.Interrupted, await fixture.Target.ScalarAsync<string>(target, "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'mysql-cancel'"));
        Assert.Equal(0L, await fixture.Target.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_shards WHERE status = 'failed'"));
        Assert.Equal(0L, await fixture.Target.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_exceptions"));

        var (_, summary, _, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { FetchId = "mysql-cancel", Resume = true, GivenSelection = SelectionParts.None });
        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(300_000L, await fixture.Target.ScalarAsync<long>(target, "SELECT count(DISTINCT id) FROM events"));
        Assert.Equal(300_000L, await fixture.Target.ScalarAsync<long>(target, "SELECT count(*) FROM events"));
    }
}
