using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Endpoints.Postgres.Replication;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// A load resumed after an interruption reads its remaining tables from a later snapshot than the one the stream starts
/// at. The stream must skip, for those tables only, the transactions that snapshot already saw: a keyless table's
/// inserts applied again doubled its rows (the reliability suite's Resume flow, under load, found 257 such rows).
/// </summary>
[Collection(PostgresReplicationCollection.Name)]
public sealed class ResumedLoadSnapshotTests(PostgresReplicationFixture fixture)
{
    [Fact]
    public async Task ATableLoadedFromALaterSnapshotGetsOnlyTheTransactionsThatSnapshotDidNotSee()
    {
        var database = await fixture.NewDatabaseAsync("resumedsnap");
        await fixture.Server.ExecuteAsync(database, """
            CREATE TABLE audit (n int, note text); ALTER TABLE audit REPLICA IDENTITY FULL;
            CREATE TABLE other (id int PRIMARY KEY);
            """);
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "audit", "other");
        // After the stream's start and before the resumed load's snapshot: held by the snapshot for audit, not for other.
        await setup.ExecuteAsync("BEGIN; INSERT INTO audit VALUES (1, 'seen'); INSERT INTO other VALUES (100); COMMIT");
        await setup.ExecuteAsync("INSERT INTO audit VALUES (2, 'seen')");
        // In progress when the snapshot is taken, so not in it, though it commits before the next one does.
        await using var open = new NpgsqlConnection(fixture.Server.ConnectionString(database));
        await open.OpenAsync();
        await using (var begin = new NpgsqlCommand("BEGIN; INSERT INTO audit VALUES (3, 'in progress')", open))
        {
            await begin.ExecuteNonQueryAsync();
        }

        string visibility;
        await using (var dataSource = PgWireConnections.CreateDataSource(setup.Address))
        await using (var snapshot = await PostgresSnapshot.OpenAsync(setup.Address, dataSource, slotName: null, 1, Apply.Log, CancellationToken.None))
        {
            visibility = Assert.IsType<string>(snapshot.Visibility);
        }

        await using (var commit = new NpgsqlCommand("COMMIT", open))
        {
            await commit.ExecuteNonQueryAsync();
        }

        await setup.ExecuteAsync("INSERT INTO audit VALUES (4, 'after')");
        var loaded = new Dictionary<TableName, PgSnapshotVisibility> { [new TableName("public", "audit")] = PgSnapshotVisibility.Parse(visibility) };
        await using var reader = new ChangeReader(await setup.Source.StartAsync(setup.Start, setup.Tables, CancellationToken.None, loaded));

        var first = await reader.NextTransactionAsync();
        var second = await reader.NextTransactionAsync();
        var third = await reader.NextTransactionAsync();

        Assert.Equal([("other", "100")], first.Rows.Select(r => (r.Table.Name.Name, (string)r.New!.Values[0]!)));
        Assert.Equal([("audit", "3")], second.Rows.Select(r => (r.Table.Name.Name, (string)r.New!.Values[0]!)));
        Assert.Equal([("audit", "4")], third.Rows.Select(r => (r.Table.Name.Name, (string)r.New!.Values[0]!)));
    }

    [Theory]
    // xmin 2^32+4, xmax 2^32+14, 2^32+9 in progress: ids are given as pgoutput sends them, 32 bits without the epoch.
    [InlineData(3u, true)]
    [InlineData(4u, true)]
    [InlineData(9u, false)]
    [InlineData(12u, true)]
    [InlineData(14u, false)]
    [InlineData(20u, false)]
    [InlineData(uint.MaxValue, true)]
    public void AnIdIsSeenWhenItCommittedBeforeTheSnapshotAcrossAnEpoch(uint xid, bool seen) =>
        Assert.Equal(seen, PgSnapshotVisibility.Parse("4294967300:4294967310:4294967305").Sees(xid));
}
