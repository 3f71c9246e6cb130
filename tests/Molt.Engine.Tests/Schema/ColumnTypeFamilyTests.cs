using Molt.Engine.Schema;
using Molt.Engine.Tests.Cockroach;
using Molt.Engine.Tests.Load;

namespace Molt.Engine.Tests.Schema;

/// <summary>Each catalog reader sets the family of every torture-table type once, as read from a real server.</summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class PostgresColumnTypeFamilyTests(PostgresSourceFixture fixture)
{
    [Fact]
    public async Task EveryTypeOfThePostgresTortureTableGetsItsFamilyFromTheCatalogReader()
    {
        var database = await fixture.NewDatabaseAsync("families");
        await fixture.Server.ExecuteAsync(database, TortureTables.Postgres);
        var table = Assert.Single(await DialectScript.ReadCatalogAsync(fixture.Server.ConnectionUri(database), TableFilter.All));

        Assert.Equal(new Dictionary<string, ColumnTypeFamily>
        {
            ["id"] = ColumnTypeFamily.Integer, ["s"] = ColumnTypeFamily.Integer, ["i"] = ColumnTypeFamily.Integer, ["b"] = ColumnTypeFamily.Integer,
            ["n"] = ColumnTypeFamily.Decimal, ["nu"] = ColumnTypeFamily.Decimal, ["r"] = ColumnTypeFamily.Float, ["d"] = ColumnTypeFamily.Float,
            ["m"] = ColumnTypeFamily.Other, ["t"] = ColumnTypeFamily.Text, ["vc"] = ColumnTypeFamily.Text, ["c"] = ColumnTypeFamily.Text,
            ["MixedCase"] = ColumnTypeFamily.Text, ["by"] = ColumnTypeFamily.Binary, ["bo"] = ColumnTypeFamily.Boolean, ["da"] = ColumnTypeFamily.Date,
            ["ti"] = ColumnTypeFamily.Time, ["tz"] = ColumnTypeFamily.Time, ["ts"] = ColumnTypeFamily.Timestamp, ["tstz"] = ColumnTypeFamily.Timestamp,
            ["iv"] = ColumnTypeFamily.Interval, ["u"] = ColumnTypeFamily.Uuid, ["j"] = ColumnTypeFamily.Json, ["jb"] = ColumnTypeFamily.Json,
            ["x"] = ColumnTypeFamily.Other, ["inet_"] = ColumnTypeFamily.Other, ["cidr_"] = ColumnTypeFamily.Other, ["mac"] = ColumnTypeFamily.Other,
            ["bi"] = ColumnTypeFamily.Bit, ["vb"] = ColumnTypeFamily.Bit,
            // An array has its elements' family; a domain its base type's.
            ["ia"] = ColumnTypeFamily.Integer, ["ta"] = ColumnTypeFamily.Text, ["mo"] = ColumnTypeFamily.Enum, ["po"] = ColumnTypeFamily.Integer,
            ["i4r"] = ColumnTypeFamily.Other, ["pt"] = ColumnTypeFamily.Other, ["tsv"] = ColumnTypeFamily.Other, ["ol"] = ColumnTypeFamily.Other,
        }, table.Columns.ToDictionary(c => c.Name, c => c.Type.Family));
        Assert.True(table.Column("ia").Type.IsArray);
    }
}

[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlColumnTypeFamilyTests(MySqlSourceFixture fixture)
{
    [Fact]
    public async Task EveryTypeOfTheMySqlTortureTableGetsItsFamilyFromTheCatalogReader()
    {
        var database = $"families_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, TortureTables.MySql);
        var table = Assert.Single(await DialectScript.ReadCatalogAsync(fixture.Source.ConnectionUri(database), TableFilter.All));

        var integers = new[] { "id", "ti", "tu", "si", "su", "mi", "mu", "i", "iu", "bi", "bu", "flag", "y" };
        var expected = integers.ToDictionary(c => c, _ => ColumnTypeFamily.Integer);
        foreach (var (column, family) in new[]
                 {
                     ("d", ColumnTypeFamily.Decimal), ("dm", ColumnTypeFamily.Decimal), ("f", ColumnTypeFamily.Float), ("db", ColumnTypeFamily.Float),
                     ("b", ColumnTypeFamily.Bit), ("dt", ColumnTypeFamily.Date), ("dtm", ColumnTypeFamily.Timestamp), ("ts", ColumnTypeFamily.Timestamp),
                     // MySQL TIME is a signed duration of up to 838 hours: it loads as an interval.
                     ("tm", ColumnTypeFamily.Interval), ("c", ColumnTypeFamily.Text), ("vc", ColumnTypeFamily.Text), ("l1", ColumnTypeFamily.Text),
                     ("tx", ColumnTypeFamily.Text), ("bin", ColumnTypeFamily.Binary), ("vb", ColumnTypeFamily.Binary), ("bl", ColumnTypeFamily.Binary),
                     ("e", ColumnTypeFamily.Enum), ("st", ColumnTypeFamily.Enum),
                     // MariaDB's JSON is LONGTEXT with a json_valid check: the reader still calls it JSON.
                     ("j", ColumnTypeFamily.Json),
                 })
        {
            expected[column] = family;
        }

        Assert.Equal(expected, table.Columns.ToDictionary(c => c.Name, c => c.Type.Family));
    }

    [Fact]
    public async Task SpatialColumnsAreInTheSpatialFamilyWithTheSridTheyDeclare()
    {
        var database = $"spatial_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, "CREATE TABLE places (id INT PRIMARY KEY, area GEOMETRY, pt POINT REF_SYSTEM_ID=4326)");
        var table = Assert.Single(await DialectScript.ReadCatalogAsync(fixture.Source.ConnectionUri(database), TableFilter.All));
        Assert.Equal([ColumnTypeFamily.Integer, ColumnTypeFamily.Spatial, ColumnTypeFamily.Spatial], table.Columns.Select(c => c.Type.Family));
        Assert.Equal([null, null, 4326], table.Columns.Select(c => c.Type.Srid));
    }
}
