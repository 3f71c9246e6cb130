using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Schema;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>The mapping decisions the sample catalogues do not reach: fallbacks, refusals and type-map spellings.</summary>
public sealed class CockroachTypeMappingTests
{
    private static readonly CockroachDialect Dialect = new(MissingPrimaryKey.Refuse);
    private static readonly TableName Name = new("app", "t");

    [Theory]
    [InlineData("composite", "TEXT", "text", "record text form")]
    [InlineData("multirange", "TEXT", "text", "text form")]
    public void UserTypesCockroachDbLacksKeepTheirTextForm(string kind, string sql, string wire, string note)
    {
        var type = new ColumnType("pair", "pair") { UserTypeKind = kind, UserTypeName = new TableName("app", "pair") };
        var mapped = Map(type, SqlSyntax.Postgres);
        Assert.Equal((sql, wire, false), (mapped.Sql, mapped.WireType, mapped.IsBinaryCompatible));
        Assert.Contains(note, mapped.Note);
    }

    [Fact]
    public void ArraysMapTheirElementAndJsonArraysNeedNoNoteFromTheMinimumVersionOn()
    {
        Assert.Equal(("VARCHAR(20)[]", "character varying[]", true),
            Tuple(Map(new ColumnType("character varying", "character varying(20)[]") { IsArray = true }, SqlSyntax.Postgres)));
        Assert.Equal(("DECIMAL[]", "numeric[]", false), Tuple(Map(new ColumnType("money", "money[]") { IsArray = true }, SqlSyntax.Postgres)));
        var json = Map(new ColumnType("jsonb", "jsonb[]") { IsArray = true }, SqlSyntax.Postgres);
        Assert.Equal(("JSONB[]", "jsonb[]"), (json.Sql, json.WireType));
        Assert.Null(json.Note);
    }

    [Fact]
    public void AnUnknownTypeIsRefusedWithTheTypeMapEntryThatWouldFixIt()
    {
        var error = Assert.Throws<MoltException>(() => Map(new ColumnType("hstore", "hstore") { UserTypeKind = null }, SqlSyntax.Postgres));
        Assert.Equal(("UnsupportedColumnType", MoltErrorKind.UnsupportedType), (error.ErrorId, error.Kind));
        Assert.Contains("app.t.c", error.Message);
        Assert.Contains("\"target_type\":\"text\"", error.Remedy);
    }

    [Theory]
    [InlineData("point", 4326, "GEOMETRY(POINT,4326)")]
    [InlineData("polygon", null, "GEOMETRY(POLYGON)")]
    [InlineData("multilinestring", 3857, "GEOMETRY(MULTILINESTRING,3857)")]
    [InlineData("geometrycollection", null, "GEOMETRY(GEOMETRYCOLLECTION)")]
    [InlineData("geometry", null, "GEOMETRY")]
    [InlineData("geometry", 4326, "GEOMETRY(GEOMETRY,4326)")]
    public void MySqlSpatialColumnsAreGeometriesOfTheirSubtypeAndSridSentAsText(string type, int? srid, string sql)
    {
        var mapped = Map(new ColumnType(type, type) { Family = ColumnTypeFamily.Spatial, Srid = srid }, SqlSyntax.MySql);
        Assert.Equal((sql, "geometry", false, true), (mapped.Sql, mapped.WireType, mapped.IsBinaryCompatible, mapped.IsSentAsText));
    }

    [Theory]
    [InlineData("STRING", "text")]
    [InlineData("BYTES", "bytea")]
    [InlineData("INT", "bigint")]
    [InlineData("INT4", "integer")]
    [InlineData("DECIMAL(12,2)", "numeric")]
    [InlineData("STRING[]", "text[]")]
    [InlineData("TIMESTAMPTZ(3)", "timestamp with time zone")]
    public void TypeMapEntriesMayUseCockroachDbSpellings(string targetType, string wire)
    {
        var overrides = TypeMapOverrides.Parse($$"""[{"table": "app.t", "column_type_map": [{"column": "c", "target_type": "{{targetType}}"}]}]""");
        var mapped = Dialect.MapType(Table(new ColumnType("text", "text")), Column(new ColumnType("text", "text")), SqlSyntax.Postgres, overrides);
        Assert.Equal((targetType, wire, false), Tuple(mapped));
    }

    [Fact]
    public void ATableWithoutAPrimaryKeyIsRefusedOnlyWhenSoChosen()
    {
        var table = new TableModel(Name, [Column(new ColumnType("text", "text"))], []);
        var error = Assert.Throws<MoltException>(() => TablePlanner.Plan(table, Name, Dialect, SqlSyntax.Postgres, TypeMapOverrides.None));
        Assert.Equal("MissingPrimaryKey", error.ErrorId);

        var plan = TablePlanner.Plan(table, Name, new CockroachDialect(MissingPrimaryKey.AddRowId), SqlSyntax.Postgres, TypeMapOverrides.None);
        Assert.Equal("""CREATE TABLE "app"."t" ("c" TEXT)""", new CockroachDialect(MissingPrimaryKey.AddRowId).CreateTable(plan));
    }

    [Fact]
    public void AnUpsertWithOnlyKeyColumnsIsStillOneUpsert() =>
        Assert.Equal("""UPSERT INTO "app"."t" ("a", "b") VALUES (@p0, @p1)""", Dialect.Upsert(Name, ["a", "b"], ["a", "b"], 1));

    [Theory]
    [InlineData("CockroachDB CCL v24.1.3 (x86_64-pc-linux-gnu, built 2024/07/15 00:00:00, go1.22.5)", "24.1.3")]
    [InlineData("CockroachDB OSS v23.1.0 (aarch64-unknown-linux-gnu)", "23.1.0")]
    [InlineData("PostgreSQL 15.18 (Debian 15.18-0+deb12u1)", null)]
    public void TheServerIsRecognisedByItsVersionString(string version, string? expected) =>
        Assert.Equal(expected, CockroachPrerequisites.ParseVersion(version)?.ToString());

    private static TargetType Map(ColumnType type, SqlSyntax source) => Dialect.MapType(Table(type), Column(type), source, TypeMapOverrides.None);

    private static TableModel Table(ColumnType type) => new(Name, [Column(type)], ["c"]);

    private static ColumnModel Column(ColumnType type) => new("c", 1, type, true);

    private static (string, string, bool) Tuple(TargetType type) => (type.Sql, type.WireType, type.IsBinaryCompatible);
}
