using System.Text.RegularExpressions;
using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Molt.Engine.Tests.Verify;
using Molt.Engine.Verify;
using Npgsql;

namespace Molt.Engine.Tests.Load;

/// <summary>
/// MySQL/MariaDB spatial columns (issue 14): every subtype with SRID 0 and 4326, NULLs and empty collections, loaded with
/// DropAndRecreate into PostgreSQL with PostGIS (geometry of the subtype and SRID), without it (bytea holding EWKB, and
/// reported), and with the CockroachDB dialect (its spelling, run on PostGIS); values compared as ST_SRID and ST_AsText.
/// </summary>
[Collection(MySqlSourceCollection.Name)]
public sealed partial class MySqlSpatialTests(MySqlSourceFixture fixture)
{
    /// <summary>Each column's value in row 1; the column with "4" after it has SRID 4326, the other none.</summary>
    private static readonly (string Column, string Type, string Wkt)[] Shapes =
    [
        ("g", "GEOMETRY", "POLYGON((0 0,4 0,4 4,0 0))"),
        ("p", "POINT", "POINT(-71.0625 42.375)"),
        ("l", "LINESTRING", "LINESTRING(0 0,1.5 2.25,3 -4)"),
        ("y", "POLYGON", "POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))"),
        ("mp", "MULTIPOINT", "MULTIPOINT(1 1,2 2)"),
        ("ml", "MULTILINESTRING", "MULTILINESTRING((0 0,1 1),(2 2,3 3))"),
        ("my", "MULTIPOLYGON", "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))"),
        ("gc", "GEOMETRYCOLLECTION", "GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))"),
    ];

    private static IEnumerable<string> Columns => Shapes.SelectMany(s => new[] { s.Column, s.Column + "4" }).Append("pin");

    private static string Schema()
    {
        var columns = string.Join(", ", Shapes.Select(s => $"{s.Column} {s.Type}, {s.Column}4 {s.Type} REF_SYSTEM_ID=4326"));
        var full = string.Join(", ", Shapes.Select(s => $"ST_GeomFromText('{s.Wkt}'), ST_GeomFromText('{s.Wkt}', 4326)"));
        var nulls = string.Concat(Enumerable.Repeat("NULL, ", Shapes.Length * 2));
        var empty = "ST_GeomFromText('GEOMETRYCOLLECTION EMPTY'), ST_GeomFromText('GEOMETRYCOLLECTION EMPTY', 4326), " +
                    string.Concat(Enumerable.Repeat("NULL, ", Shapes.Length * 2 - 4)) +
                    "ST_GeomFromText('GEOMETRYCOLLECTION EMPTY'), ST_GeomFromText('GEOMETRYCOLLECTION EMPTY', 4326), ";
        return $"""
            CREATE TABLE shapes (id INT PRIMARY KEY, {columns}, pin POINT REF_SYSTEM_ID=4326 NOT NULL, SPATIAL INDEX pin_idx (pin));
            INSERT INTO shapes VALUES
              (1, {full}, ST_GeomFromText('POINT(1 1)', 4326)),
              (2, {nulls}ST_GeomFromText('POINT(2 2)', 4326)),
              (3, {empty}ST_GeomFromText('POINT(3 3)', 4326));
            """;
    }

    [Fact]
    public async Task Every_subtype_becomes_a_PostGIS_geometry_of_its_subtype_and_SRID_with_equal_values_and_a_gist_index()
    {
        var database = await SourceAsync();
        var target = await fixture.NewTargetAsync("spatial_postgis");
        await fixture.Target.ExecuteAsync(target, "CREATE EXTENSION postgis");

        var (plan, summary, _, _) = await LoadAsync(database, target);

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.DoesNotContain(plan.Tables[0].PostLoad, s => s.Sql is null);
        var types = await TypesAsync(target);
        Assert.Equal("geometry", types["g"]);
        Assert.Equal("geometry(Geometry,4326)", types["g4"]);
        Assert.Equal("geometry(Point)", types["p"]);
        Assert.Equal("geometry(Point,4326)", types["p4"]);
        Assert.Equal("geometry(MultiPolygon,4326)", types["my4"]);
        Assert.Equal("geometry(GeometryCollection)", types["gc"]);
        await AssertValuesEqualAsync(database, target, "@");
        Assert.Contains("USING gist (pin)", await fixture.Target.ScalarAsync<string>(target,
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'shapes' AND indexname = 'shapes_pin_idx'"), StringComparison.Ordinal);
        await AssertComparedEqualAsync(database, target);

        // The subtype and the SRID hold on the target, as they did on the source.
        await Assert.ThrowsAsync<PostgresException>(() => fixture.Target.ExecuteAsync(target,
            "INSERT INTO shapes (id, p, pin) VALUES (9, 'LINESTRING(0 0,1 1)', 'SRID=4326;POINT(0 0)')"));
        await Assert.ThrowsAsync<PostgresException>(() => fixture.Target.ExecuteAsync(target, "INSERT INTO shapes (id, pin) VALUES (9, 'SRID=3857;POINT(0 0)')"));
    }

    [Fact]
    public async Task Without_PostGIS_every_spatial_column_is_bytea_holding_standard_EWKB_with_its_SRID_and_the_plan_says_so()
    {
        var database = await SourceAsync();
        var target = await fixture.NewTargetAsync("spatial_bytea");

        var (plan, summary, _, log) = await LoadAsync(database, target);

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.All(plan.Tables[0].Plan.Columns.Skip(1), c => Assert.Equal(("bytea", true), (c.Type.Sql, c.Type.IsReported)));
        var reported = plan.Tables[0].PostLoad.Where(s => s.Sql is null).ToDictionary(s => s.Description, s => s.NotTranslatedReason!);
        Assert.Contains("point becomes bytea", reported["type of p4"], StringComparison.Ordinal);
        Assert.Contains("no PostGIS", reported["type of p4"], StringComparison.Ordinal);
        Assert.Contains("spatial index", reported["index pin_idx"], StringComparison.Ordinal);
        Assert.Contains(log, l => l.Contains("type of gc4 not created", StringComparison.Ordinal));
        Assert.Equal(Columns.Count(), await fixture.Target.ScalarAsync<long>(target,
            "SELECT count(*) FROM _molt.fetch_exceptions WHERE message LIKE 'type of % not created: % becomes bytea: the target has no PostGIS%'"));
        await AssertComparedEqualAsync(database, target);

        // Read back by PostGIS's own EWKB reader, installed only now: the bytes are its EWKB, SRID included.
        await fixture.Target.ExecuteAsync(target, "CREATE EXTENSION postgis");
        await AssertValuesEqualAsync(database, target, "ST_GeomFromEWKB(@)");
        Assert.Equal(0L, await fixture.Target.ScalarAsync<long>(target,
            "SELECT count(*) FROM shapes WHERE p4 IS NOT NULL AND p4 <> ST_AsEWKB(ST_GeomFromEWKB(p4), 'NDR')"));
    }

    [Fact]
    public async Task The_CockroachDB_dialect_declares_GEOMETRY_of_the_subtype_and_SRID_and_its_hex_EWKB_loads_on_PostGIS()
    {
        var database = await SourceAsync();
        var target = await fixture.NewTargetAsync("spatial_crdb");
        await fixture.Target.ExecuteAsync(target, "CREATE EXTENSION postgis");

        var (plan, summary, _, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate }, dialect: new CockroachDialect(MissingPrimaryKey.Refuse));

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        var table = plan.Tables[0];
        Assert.True(table.Plan.IsSentAsText);
        var create = table.PreLoad.Single(s => s.StartsWith("CREATE TABLE", StringComparison.Ordinal));
        Assert.Contains("\"g\" GEOMETRY, \"g4\" GEOMETRY(GEOMETRY,4326), \"p\" GEOMETRY(POINT), \"p4\" GEOMETRY(POINT,4326)", create, StringComparison.Ordinal);
        Assert.Contains("\"pin\" GEOMETRY(POINT,4326) NOT NULL", create, StringComparison.Ordinal);
        Assert.Equal("""CREATE INDEX "shapes_pin_idx" ON "public"."shapes" USING GIST ("pin")""",
            table.PostLoad.Single(s => s.Description == "index pin_idx").Sql);
        await AssertValuesEqualAsync(database, target, "@");
    }

    [Fact]
    public void A_MySQL_geometry_becomes_EWKB_with_the_SRID_flag_and_the_SRID_after_the_type_and_plain_WKB_for_SRID_0()
    {
        // MySQL's POINT(1 2) with SRID 4326, and PostGIS's ST_AsEWKB('SRID=4326;POINT(1 2)') (CockroachDB's srid-4326 page shows the same).
        Assert.Equal("0101000020E6100000000000000000F03F0000000000000040",
            Convert.ToHexString(MySqlSpatial.ToEwkb(Convert.FromHexString("E61000000101000000000000000000F03F0000000000000040"))));
        Assert.Equal("010700000000000000", Convert.ToHexString(MySqlSpatial.ToEwkb(Convert.FromHexString("00000000010700000000000000"))));
        // A big-endian WKB keeps its byte order for the type and the SRID.
        Assert.Equal("0020000001000010E63FF00000000000004000000000000000",
            Convert.ToHexString(MySqlSpatial.ToEwkb(Convert.FromHexString("E610000000000000013FF00000000000004000000000000000"))));
        Assert.Throws<FormatException>(() => MySqlSpatial.ToEwkb([1, 2, 3]));
    }

    /// <summary>Per column, every row's SRID and WKT on the source and on the target (<paramref name="targetValue"/>, the column in place of @).</summary>
    private async Task AssertValuesEqualAsync(string database, string target, string targetValue)
    {
        foreach (var column in Columns)
        {
            var source = await fixture.Source.ScalarAsync<string>(database,
                $"SELECT GROUP_CONCAT(CONCAT(id, ':', COALESCE(CONCAT(ST_SRID({column}), ';', ST_AsText({column})), 'NULL')) ORDER BY id SEPARATOR '|') FROM shapes");
            var value = targetValue.Replace("@", $"\"{column}\"", StringComparison.Ordinal);
            var loaded = await fixture.Target.ScalarAsync<string>(target,
                $"SELECT string_agg(id || ':' || coalesce(ST_SRID({value}) || ';' || ST_AsText({value}), 'NULL'), '|' ORDER BY id) FROM shapes");
            // PostGIS writes MULTIPOINT((1 1),(2 2)) where MariaDB writes MULTIPOINT(1 1,2 2): the same points.
            Assert.Equal(source, MultiPointMember().Replace(loaded ?? "", m => m.Groups[1].Value));
        }
    }

    private async Task AssertComparedEqualAsync(string database, string target)
    {
        var (compared, differences) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new CompareOptions());
        Assert.Empty(differences);
        Assert.Equal((ComparisonStatus.Equal, 3L), (Assert.Single(compared).Status, compared[0].SourceRows));
    }

    private async Task<Dictionary<string, string>> TypesAsync(string target)
    {
        await using var connection = new NpgsqlConnection(fixture.Target.ConnectionString(target));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'shapes'::regclass AND attnum > 0 AND NOT attisdropped", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var types = new Dictionary<string, string>();
        while (await reader.ReadAsync())
        {
            types[reader.GetString(0)] = reader.GetString(1);
        }

        return types;
    }

    private async Task<string> SourceAsync()
    {
        var database = $"spatial_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, Schema());
        return database;
    }

    private Task<(LoadPlan Plan, BulkLoadSummary Summary, List<TableLoadResult> Tables, List<string> Log)> LoadAsync(string database, string target) =>
        LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });

    [GeneratedRegex(@"(?<=MULTIPOINT\(.*)\(([^()]+)\)")]
    private static partial Regex MultiPointMember();
}
