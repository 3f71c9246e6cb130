using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Tests.Load;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Verify;

[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlCompareTests(MySqlSourceFixture fixture)
{
    private static readonly string[] TortureColumns =
        ["ti", "tu", "si", "su", "mi", "mu", "i", "iu", "bi", "bu", "flag", "dm", "f", "db", "b", "y", "dt", "dtm", "ts", "tm", "c", "vc", "l1", "tx", "bin",
         "vb", "bl", "e", "st", "j"];

    [Fact]
    public async Task SakilaLoadedIsEqual()
    {
        var target = await fixture.NewTargetAsync("verify_sakila");
        var typeMap = Molt.Engine.Schema.TypeMapOverrides.Parse("""[{"table": "sakila.address", "column_type_map": [{"column": "location", "target_type": "bytea"}]}]""");
        await LoadHarness.LoadAsync(fixture.Source.ConnectionUri("sakila"), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, TypeMap = typeMap });
        var (tables, differences) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri("sakila"), fixture.Target.ConnectionUri(target), new CompareOptions());
        Assert.Equal(16, tables.Count);
        Assert.All(tables, t => Assert.True(t.Status == ComparisonStatus.Equal, $"{t.Table}: {t.Status} {t.Note} {string.Join("; ", differences.Where(d => d.Table == t.Table).Take(3))}"));
    }

    [Fact]
    public async Task EveryTypeOfTheTortureTableIsComparedAndEachChangeFoundOnce()
    {
        var database = $"vtorture_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, $$"""
            CREATE TABLE torture (
              id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT, mu MEDIUMINT UNSIGNED,
              i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, flag TINYINT(1), dm DECIMAL(20,6), f FLOAT, db DOUBLE,
              b BIT(10), y YEAR, dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), c CHAR(4), vc VARCHAR(20) CHARACTER SET utf8mb4,
              l1 VARCHAR(20) CHARACTER SET latin1, tx TEXT, bin BINARY(4), vb VARBINARY(10), bl BLOB, e ENUM('small','Large'), st SET('a','b','c'), j JSON);
            INSERT INTO torture SELECT seq, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808,
              18446744073709551615, 2, 12345678901234.123456, 3.5, 1.7976931348623157e308, b'1000000001', 2155, '9999-12-31',
              '1000-01-01 00:00:00.000001', '2038-01-19 03:14:07.999999', '-838:59:59', 'ab', 'héllo 😀', 'café', 'x', 'a\0b', 0x00FF00, 0x0001,
              'Large', 'a,c', '{"k": [1, 2.5, null], "e": "😀"}' FROM seq_0_to_{{TortureColumns.Length}};
            """);
        var target = await fixture.NewTargetAsync("vtorture");
        await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });
        var (equal, found) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target), new CompareOptions());
        Assert.True(Assert.Single(equal).Status == ComparisonStatus.Equal,
            string.Join("; ", found.Take(2).Select(d => $"{d.Key} {d.Kind} {string.Join(",", d.Columns)}: {string.Join(",", d.SourceValues)} vs {string.Join(",", d.TargetValues)}")));

        // Row k+1 gets column k changed (to NULL) on the target; row 0 is deleted and row 1000 added.
        var changes = string.Join(" ", TortureColumns.Select((c, k) => $"UPDATE torture SET \"{c}\" = NULL WHERE id = {k + 1};"));
        await fixture.Target.ExecuteAsync(target, changes + " DELETE FROM torture WHERE id = 0; INSERT INTO torture (id) VALUES (1000);");
        var (tables, differences) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target), new CompareOptions());

        var torture = Assert.Single(tables);
        Assert.Equal((1L, 1L, (long)TortureColumns.Length), (torture.Missing, torture.Extra, torture.Mismatched));
        for (var k = 0; k < TortureColumns.Length; k++)
        {
            var mismatch = Assert.Single(differences, d => d.Key == $"id={k + 1}");
            Assert.Equal([TortureColumns[k]], mismatch.Columns);
            Assert.Null(mismatch.TargetValues[0]);
        }

        Assert.Equal(DifferenceKind.Missing, Assert.Single(differences, d => d.Key == "id=0").Kind);
        Assert.Equal(DifferenceKind.Extra, Assert.Single(differences, d => d.Key == "id=1000").Kind);
    }

    [Fact]
    public async Task TextKeysOrderTheSameInMariaDbAndPostgres()
    {
        var database = $"vtext_{Guid.NewGuid():N}"[..16];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            CREATE TABLE words (word VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci PRIMARY KEY, n INT);
            INSERT INTO words VALUES ('apple', 1), ('Banana', 2), ('éclair', 3), ('Zebra', 4), ('😀smile', 5), ('ｆull', 6), ('eclairs', 7);
            """);
        var target = await fixture.NewTargetAsync("vtext");
        await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });
        await fixture.Target.ExecuteAsync(target, "UPDATE words SET n = 40 WHERE word = 'Zebra'");

        var (tables, differences) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target), new CompareOptions());
        var words = Assert.Single(tables);
        Assert.Equal((0L, 0L, 1L), (words.Missing, words.Extra, words.Mismatched));
        Assert.Equal("word=Zebra", Assert.Single(differences).Key);
    }

    // DECIMAL(65,30) keys hold more digits than .NET's decimal: they are compared, and looked up again live, as text.
    [Fact]
    public async Task WideDecimalKeysOrderByValueAndAreRecheckedLive()
    {
        var database = $"vdec_{Guid.NewGuid():N}"[..16];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            CREATE TABLE amounts (id DECIMAL(65,30) PRIMARY KEY, n INT);
            INSERT INTO amounts VALUES (-5.5, 1), (9, 2), (10.000000000000000000000000000001, 3), (12345678901234567890123456789012345.1, 4);
            """);
        var target = await fixture.NewTargetAsync("vdec");
        await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });
        await fixture.Target.ExecuteAsync(target, """
            DELETE FROM amounts WHERE id = 9;
            UPDATE amounts SET n = 30 WHERE id = 10.000000000000000000000000000001;
            INSERT INTO amounts VALUES (10.000000000000000000000000000002, 5);
            """);

        var (tables, differences) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new CompareOptions { Live = true, LiveRetries = 1, LiveDelay = TimeSpan.FromMilliseconds(10) });
        var amounts = Assert.Single(tables);
        Assert.Equal((1L, 1L, 1L, 4L), (amounts.Missing, amounts.Extra, amounts.Mismatched, amounts.SourceRows));
        Assert.Equal(
            ["Extra id=10.000000000000000000000000000002", "Mismatch id=10.000000000000000000000000000001", "Missing id=9"],
            differences.Select(d => $"{d.Kind} {d.Key}").Order(StringComparer.Ordinal));
    }
}
