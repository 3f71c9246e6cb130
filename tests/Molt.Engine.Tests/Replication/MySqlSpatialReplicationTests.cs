using Molt.Engine.Sessions;
using Molt.Engine.Tests.Verify;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Replication;

/// <summary>Spatial values through the binlog (issue 14): the same EWKB conversion as the load, into PostGIS geometries.</summary>
[Collection(MySqlReplicationCollection.Name)]
public sealed class MySqlSpatialReplicationTests(MySqlReplicationFixture fixture)
{
    private const string Schema = """
        CREATE TABLE places (id INT PRIMARY KEY, pt POINT REF_SYSTEM_ID=4326, area POLYGON, any_g GEOMETRY);
        INSERT INTO places VALUES (1, ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'), NULL);
        """;

    private const string Streamed = """
        INSERT INTO places VALUES
          (2, ST_GeomFromText('POINT(-71.0625 42.375)', 4326), ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))', 3857),
              ST_GeomFromText('GEOMETRYCOLLECTION EMPTY')),
          (3, NULL, NULL, ST_GeomFromText('LINESTRING(0 0,1 1)', 4326));
        UPDATE places SET pt = ST_GeomFromText('POINT(5 6)', 4326), area = ST_GeomFromText('POLYGON((1 1,2 1,2 2,1 1))', 4326) WHERE id = 1;
        INSERT INTO places VALUES (4, ST_GeomFromText('POINT(0 0)', 4326), NULL, ST_GeomFromText('POINT(7 8)'));
        DELETE FROM places WHERE id = 3;
        """;

    [Fact]
    public async Task Points_and_polygons_inserted_updated_and_deleted_while_streaming_land_with_their_SRID_as_on_the_source()
    {
        var test = await fixture.NewCaseAsync("spatial", Schema);
        await test.TargetAsync("CREATE EXTENSION postgis");
        var options = MySqlStreamCase.Options("spatial-stream");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var (session, running) = await test.StartAsync(options, timeout.Token);
        await using (session)
        {
            await test.SourceAsync(Streamed);
            await ReplicationControl.RequestStopAsync(test.TargetAddress, "spatial-stream", immediately: false, timeout.Token);
            var stopped = await running;
            Assert.Equal((3L, 1L, 1L), (stopped.Inserts, stopped.Updates, stopped.Deletes));
        }

        var source = await test.SourceRowsAsync(
            "SELECT id, CONCAT(ST_SRID(pt), ';', ST_AsText(pt)), CONCAT(ST_SRID(area), ';', ST_AsText(area)), CONCAT(ST_SRID(any_g), ';', ST_AsText(any_g)) " +
            "FROM places ORDER BY id");
        var target = await test.TargetRowsAsync(
            "SELECT id, ST_SRID(pt) || ';' || ST_AsText(pt), ST_SRID(area) || ';' || ST_AsText(area), ST_SRID(any_g) || ';' || ST_AsText(any_g) " +
            "FROM places ORDER BY id");
        Assert.Equal(source, target);
        Assert.Contains("5 6", target, StringComparison.Ordinal);
        Assert.Equal("geometry(Point,4326)|geometry(Polygon)|geometry", await test.TargetScalarAsync<string>(
            "SELECT string_agg(format_type(atttypid, atttypmod), '|' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'places'::regclass AND attnum > 1"));
        var (compared, differences) = await CompareHarness.CompareAsync(test.SourceUri, test.TargetUri, new CompareOptions());
        Assert.Empty(differences);
        Assert.Equal(ComparisonStatus.Equal, Assert.Single(compared).Status);
    }
}
