using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Molt.Engine.Tests.Load;
using Npgsql;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// A shard whose COMMIT failed as ambiguous (CockroachDB's 40003; any server's connection lost during COMMIT) may have
/// committed its rows and its "done" mark: the failure recorded after it must not undo that mark. Run on PostgreSQL,
/// whose state SQL is CockroachDB's.
/// </summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class AmbiguousCommitTests(PostgresSourceFixture fixture)
{
    [Fact]
    public async Task AFailureRecordedAfterAShardWasMarkedDoneLeavesItDone()
    {
        var database = await fixture.NewDatabaseAsync("ambiguous");
        await using var target = NpgsqlDataSource.Create(fixture.Server.ConnectionString(database));
        var state = new LoadStateStore(target);
        await state.EnsureSchemaAsync(CancellationToken.None);
        await state.RecordShardsAsync("ambiguous-run", "public.t", "public.t", [new KeyRange(null, null, null)], CancellationToken.None);
        await using (var connection = await target.OpenConnectionAsync())
        {
            await LoadStateStore.MarkShardDoneAsync(connection, "ambiguous-run", "public.t", 0, 10, 100, null, CancellationToken.None);
        }

        await state.MarkShardFailedAsync("ambiguous-run", "public.t", 0, ShardStatus.Failed, "result is ambiguous", CancellationToken.None);

        var shard = Assert.Single(await state.ReadShardsAsync("ambiguous-run", null, CancellationToken.None));
        Assert.Equal(ShardStatus.Done, shard.Status);
    }
}
