using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Molt.Engine.Tests.Verify;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Load;

/// <summary>
/// A PostgreSQL source's xml and PostGIS columns into PostgreSQL (issue 14): xml byte-identical, its declaration kept
/// (PostgreSQL's xml output, text and binary, drops one that only says version 1.0); geometry and geography stay
/// themselves where the target has PostGIS, and are their EWKB in bytea where it has not.
/// </summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class PostgresXmlTests(PostgresSourceFixture fixture)
{
    private const string Schema = """
        CREATE EXTENSION postgis;
        CREATE TABLE docs (id int PRIMARY KEY, x xml, g geometry(Point,4326), a geography(Polygon,4326), any_g geometry);
        INSERT INTO docs VALUES
          (1, '<?xml version="1.0"?><a/>', 'SRID=4326;POINT(1 2)', 'SRID=4326;POLYGON((0 0,1 0,1 1,0 0))', 'GEOMETRYCOLLECTION EMPTY'),
          (2, ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' || E'\n' || '<b at="1">é</b>')::xml, NULL, NULL, 'SRID=3857;LINESTRING(0 0,1.5 2)'),
          (3, 'plain <c/> content', 'SRID=4326;POINT(-71.0625 42.375)', NULL, NULL),
          (4, NULL, NULL, NULL, NULL);
        """;

    private const string XmlText = "SELECT string_agg(id || ':' || coalesce(x::text, 'NULL'), '|' ORDER BY id) FROM docs";

    private const string SpatialText =
        "SELECT string_agg(id || ':' || coalesce(encode(ST_AsEWKB(g), 'hex'), 'NULL') || ',' || coalesce(encode(ST_AsEWKB(a::geometry), 'hex'), 'NULL') " +
        "|| ',' || coalesce(encode(ST_AsEWKB(any_g), 'hex'), 'NULL'), '|' ORDER BY id) FROM docs";

    [Fact]
    public async Task Xml_arrives_byte_identical_with_its_declaration_and_PostGIS_columns_keep_their_type_and_values()
    {
        var source = await SourceAsync();
        var target = await fixture.NewDatabaseAsync("xml_postgis");
        await fixture.Server.ExecuteAsync(target, "CREATE EXTENSION postgis");

        var (plan, summary, _, _) = await LoadHarness.LoadAsync(fixture.Server.ConnectionUri(source), fixture.Server.ConnectionUri(target), Recreate);

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal("""SELECT "id", CAST("x" AS text), "g", "a", "any_g" FROM "public"."docs" """.TrimEnd(),
            Molt.Engine.Endpoints.Postgres.PostgresSnapshot.SelectSql(plan.Tables[0].Plan, KeyRange.All, null));
        Assert.Equal("1:<?xml version=\"1.0\"?><a/>|2:<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<b at=\"1\">é</b>|3:plain <c/> content|4:NULL",
            await fixture.Server.ScalarAsync<string>(target, XmlText));
        Assert.Equal("xml|geometry(Point,4326)|geography(Polygon,4326)|geometry", await fixture.Server.ScalarAsync<string>(target,
            "SELECT string_agg(format_type(atttypid, atttypmod), '|' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'docs'::regclass AND attnum > 1"));
        Assert.Equal(await fixture.Server.ScalarAsync<string>(source, SpatialText), await fixture.Server.ScalarAsync<string>(target, SpatialText));
        await AssertComparedEqualAsync(source, target);
    }

    [Fact]
    public async Task Without_PostGIS_on_the_target_geometry_and_geography_are_their_EWKB_in_bytea_and_reported()
    {
        var source = await SourceAsync();
        var target = await fixture.NewDatabaseAsync("xml_bytea");

        var (plan, summary, _, _) = await LoadHarness.LoadAsync(fixture.Server.ConnectionUri(source), fixture.Server.ConnectionUri(target), Recreate);

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        var reported = plan.Tables[0].PostLoad.Where(s => s.Sql is null).Select(s => s.Description).Order().ToList();
        Assert.Equal(["type of a", "type of any_g", "type of g"], reported);
        Assert.Equal(await fixture.Server.ScalarAsync<string>(source, SpatialText),
            await fixture.Server.ScalarAsync<string>(target, SpatialText.Replace("ST_AsEWKB(a::geometry)", "a", StringComparison.Ordinal)
                .Replace("ST_AsEWKB(g)", "g", StringComparison.Ordinal).Replace("ST_AsEWKB(any_g)", "any_g", StringComparison.Ordinal)));
        Assert.Equal(await fixture.Server.ScalarAsync<string>(source, XmlText), await fixture.Server.ScalarAsync<string>(target, XmlText));
        await AssertComparedEqualAsync(source, target);
    }

    [Fact]
    public async Task The_CockroachDB_dialect_keeps_xml_as_TEXT_with_its_declaration()
    {
        var source = await SourceAsync();
        var target = await fixture.NewDatabaseAsync("xml_crdb");
        await fixture.Server.ExecuteAsync(target, "CREATE EXTENSION postgis");

        var (plan, summary, _, _) = await LoadHarness.LoadAsync(fixture.Server.ConnectionUri(source), fixture.Server.ConnectionUri(target), Recreate,
            dialect: new CockroachDialect(MissingPrimaryKey.Refuse));

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Contains("\"x\" TEXT, \"g\" GEOMETRY, \"a\" GEOGRAPHY, \"any_g\" GEOMETRY",
            plan.Tables[0].PreLoad.Single(s => s.StartsWith("CREATE TABLE", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(await fixture.Server.ScalarAsync<string>(source, XmlText), await fixture.Server.ScalarAsync<string>(target, XmlText));
        Assert.Equal(await fixture.Server.ScalarAsync<string>(source, SpatialText), await fixture.Server.ScalarAsync<string>(target, SpatialText));
    }

    private static BulkLoadOptions Recreate => new() { TableHandling = TableHandling.DropAndRecreate };

    private async Task<string> SourceAsync()
    {
        var source = await fixture.NewDatabaseAsync("xml_src");
        await fixture.Server.ExecuteAsync(source, Schema);
        return source;
    }

    private async Task AssertComparedEqualAsync(string source, string target)
    {
        var (compared, differences) = await CompareHarness.CompareAsync(fixture.Server.ConnectionUri(source), fixture.Server.ConnectionUri(target),
            new CompareOptions());
        Assert.Empty(differences);
        Assert.All(compared, c => Assert.Equal(ComparisonStatus.Equal, c.Status));
        Assert.Contains(compared, c => c.Table.Name == "docs" && c.SourceRows == 4);
    }
}
