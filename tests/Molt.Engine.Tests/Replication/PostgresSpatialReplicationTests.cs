using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// A PostGIS source's geometries through logical decoding (issue 14): kept geometry where the target has PostGIS, and
/// the same EWKB in bytea as the load wrote where it has not.
/// </summary>
[Collection(ApplyTargetCollection.Name)]
public sealed class PostgresSpatialReplicationTests(ApplyTargetFixture fixture)
{
    private const string Schema = """
        CREATE EXTENSION postgis;
        CREATE TABLE places (id int PRIMARY KEY, pt geometry(Point,4326), area geometry);
        INSERT INTO places VALUES (1, 'SRID=4326;POINT(1 2)', 'POLYGON((0 0,1 0,1 1,0 0))'), (2, NULL, 'GEOMETRYCOLLECTION EMPTY');
        """;

    private const string Streamed = """
        INSERT INTO places VALUES (3, 'SRID=4326;POINT(-71.0625 42.375)', 'SRID=3857;POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))'), (4, NULL, NULL);
        UPDATE places SET pt = 'SRID=4326;POINT(5 6)', area = 'LINESTRING(0 0,1 1)' WHERE id = 1;
        DELETE FROM places WHERE id = 2;
        """;

    private const string Ewkb = "SELECT string_agg(id || ':' || coalesce(encode(ST_AsEWKB(pt), 'hex'), 'NULL') || ',' || coalesce(encode(ST_AsEWKB(area), 'hex'), 'NULL'), '|' ORDER BY id) FROM places";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Geometries_written_while_streaming_land_as_geometry_with_PostGIS_and_as_their_EWKB_in_bytea_without(bool targetHasPostGis)
    {
        var server = fixture.Server;
        var sourceDb = $"spatial_src_{Guid.NewGuid():N}"[..24];
        await server.CreateDatabaseAsync(sourceDb);
        await server.ExecuteAsync(sourceDb, Schema);
        await using var target = await fixture.NewTargetAsync("spatial_dst", targetHasPostGis ? "CREATE EXTENSION postgis" : "SELECT 1");
        var targetAddress = EndpointAddress.Parse(server.ConnectionUri(target.Database));
        var fetchId = $"spatial-{targetHasPostGis}".ToLowerInvariant();
        var options = new ReplicationOptions { FetchId = fetchId, Load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate } };
        using var log = MoltLogSession.None();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var states = new List<ReplicationState>();
        await using var session = await ReplicationSession.OpenAsync(EndpointAddress.Parse(server.ConnectionUri(sourceDb)), targetAddress, options, log, timeout.Token);
        var running = session.StartAsync(await session.PlanAsync(timeout.Token), new BulkLoadCallbacks(), _ => { }, new StateReports(states), timeout.Token);
        await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(states.Contains(ReplicationState.Streaming) || running.IsCompleted));

        await server.ExecuteAsync(sourceDb, Streamed);
        await ReplicationControl.RequestStopAsync(targetAddress, fetchId, immediately: false, timeout.Token);
        var stopped = await running;

        Assert.Equal((2L, 1L, 1L), (stopped.Inserts, stopped.Updates, stopped.Deletes));
        Assert.Equal(targetHasPostGis ? "geometry(Point,4326)|geometry" : "bytea|bytea", await target.ScalarAsync<string>(
            "SELECT string_agg(format_type(atttypid, atttypmod), '|' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'places'::regclass AND attnum > 1"));
        var onTarget = targetHasPostGis ? Ewkb : Ewkb.Replace("ST_AsEWKB(pt)", "pt", StringComparison.Ordinal).Replace("ST_AsEWKB(area)", "area", StringComparison.Ordinal);
        Assert.Equal(await server.ScalarAsync<string>(sourceDb, Ewkb), await target.ScalarAsync<string>(onTarget));
    }
}
