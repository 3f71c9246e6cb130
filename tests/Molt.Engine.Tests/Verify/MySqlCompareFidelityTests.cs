using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Tests.Load;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Verify;

/// <summary>MariaDB sources: values loaded exactly, planted differences found and named by key, keys of every type merged and re-read live.</summary>
[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlCompareFidelityTests(MySqlSourceFixture fixture)
{
    // Per key type: the keys (their order as text differs from their order by value), the one deleted and the one changed on the target.
    private static readonly (string Table, string Type, string[] Keys, string Deleted, string Changed)[] KeyTypes =
    [
        ("kdouble", "DOUBLE", ["-1.5", "2", "10", "1e20"], "2", "10"),
        ("kfloat", "FLOAT", ["-1.5", "2", "10", "0.5"], "2", "10"),
        ("ktime", "TIME", ["'-01:00:00'", "'02:00:00'", "'10:00:00'", "'100:00:00'"], "2:00:00.000000", "10:00:00.000000"),
        ("kbigu", "BIGINT UNSIGNED", ["2", "10", "9223372036854775808", "18446744073709551615"], "9223372036854775808", "10"),
        ("kintu", "INT UNSIGNED", ["2", "10", "4294967295", "3"], "4294967295", "10"),
        ("kdate", "DATE", ["'2020-01-02'", "'1999-12-31'", "'2020-10-01'", "'2020-02-01'"], "2020-10-01", "2020-01-02"),
        ("kdatetime", "DATETIME", ["'2020-01-02 10:00:00'", "'1999-12-31 23:59:59'", "'2020-10-01 00:00:00'", "'2020-01-02 09:00:00'"],
            "2020-10-01 00:00:00.000000", "1999-12-31 23:59:59.000000"),
        ("ktimestamp", "TIMESTAMP", ["'2020-01-02 10:00:00'", "'1999-12-31 23:59:59'", "'2020-10-01 00:00:00'", "'2020-01-02 09:00:00'"],
            "2020-10-01 00:00:00.000000", "1999-12-31 23:59:59.000000"),
    ];

    [Fact]
    public async Task FloatIsLoadedWithItsExactValueAndARoundedOneIsADifference()
    {
        var (database, target) = await LoadAsync("vfloat", """
            CREATE TABLE f (id INT PRIMARY KEY, f FLOAT, d DOUBLE);
            INSERT INTO f VALUES (1, 16777216, 0.1), (2, 1.2345678, 1e-300), (3, -3.4028234e38, 0.30000000000000004), (4, NULL, NULL);
            """);
        var loaded = await fixture.Target.ScalarAsync<float[]>(target, "SELECT array_agg(f ORDER BY id) FROM f WHERE f IS NOT NULL");
        Assert.Equal(new[] { 16777216f, 1.2345678f, -3.4028234e38f }, loaded);
        var (equal, none) = await CompareAsync(database, target, new CompareOptions());
        Assert.True(Assert.Single(equal).Status == ComparisonStatus.Equal, string.Join("; ", none.Select(d => $"{d.Key}: {string.Join(",", d.SourceValues)} vs {string.Join(",", d.TargetValues)}")));

        await fixture.Target.ExecuteAsync(target, "UPDATE f SET f = 16777200 WHERE id = 1; UPDATE f SET f = 1.23457 WHERE id = 2; UPDATE f SET d = 0.3 WHERE id = 3;");
        var (tables, differences) = await CompareAsync(database, target, new CompareOptions());
        Assert.Equal(3L, Assert.Single(tables).Mismatched);
        Assert.Equal(["id=1 f", "id=2 f", "id=3 d"], differences.Select(d => $"{d.Key} {string.Join(",", d.Columns)}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AFloatMappedToTextIsWrittenWithTheDigitsOfItsExactValue()
    {
        var database = $"vftext_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, "CREATE TABLE f (id INT PRIMARY KEY, f FLOAT); INSERT INTO f VALUES (1, 16777216), (2, 1.2345678);");
        var target = await fixture.NewTargetAsync("vftext");
        var typeMap = Molt.Engine.Schema.TypeMapOverrides.Parse($$"""[{"table": "{{database}}.f", "column_type_map": [{"column": "f", "target_type": "text"}]}]""");
        await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, TypeMap = typeMap });

        Assert.Equal("16777216|1.2345678", await fixture.Target.ScalarAsync<string>(target, "SELECT string_agg(f, '|' ORDER BY id) FROM f"));
        Assert.Equal(ComparisonStatus.Equal, Assert.Single((await CompareAsync(database, target, new CompareOptions())).Tables).Status);
    }

    [Fact]
    public async Task JsonNumbersAreComparedExactlyAndADuplicateKeyCrashesNothing()
    {
        var (database, target) = await LoadAsync("vmjson", """
            CREATE TABLE docs (id INT PRIMARY KEY, j JSON);
            INSERT INTO docs VALUES (1, '{"n": 0.000000000000000000000000000001}'), (2, '{"n": 1.00000000000000000000000000000001}'), (3, '{"a": 1, "a": 2}');
            CREATE TABLE other (id INT PRIMARY KEY, v TEXT); INSERT INTO other VALUES (1, 'x');
            """);
        var (equal, _) = await CompareAsync(database, target, new CompareOptions());
        Assert.True(equal.All(t => t.Status == ComparisonStatus.Equal), string.Join("; ", equal.Select(t => $"{t.Table} {t.Status} {t.Note}")));

        await fixture.Target.ExecuteAsync(target, """
            UPDATE docs SET j = '{"n": 0.000000000000000000000000000002}' WHERE id = 1;
            UPDATE docs SET j = '{"n": 1.00000000000000000000000000000002}' WHERE id = 2;
            UPDATE docs SET j = '{"a": 3}' WHERE id = 3;
            UPDATE other SET v = 'y';
            """);
        var (tables, differences) = await CompareAsync(database, target, new CompareOptions());
        Assert.Equal((3L, 1L), (tables.Single(t => t.Table.Name == "docs").Mismatched, tables.Single(t => t.Table.Name == "other").Mismatched));
        Assert.Equal(["docs id=1", "docs id=2", "docs id=3", "other id=1"], differences.Select(d => $"{d.Table.Name} {d.Key}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task KeysOfEveryTypeMergeByValueAndAreRecheckedLive()
    {
        var (database, target) = await LoadAsync("vmkeys", string.Concat(KeyTypes.Select(k =>
            $"CREATE TABLE {k.Table} (k {k.Type} NOT NULL PRIMARY KEY, n INT); INSERT INTO {k.Table} VALUES {string.Join(", ", k.Keys.Select((key, i) => $"({key}, {i})"))};")));
        var (equal, _) = await CompareAsync(database, target, new CompareOptions());
        Assert.All(equal, t => Assert.True(t.Status == ComparisonStatus.Equal, $"{t.Table}: {t.Missing} missing, {t.Extra} extra, {t.Mismatched} mismatched"));

        await fixture.Target.ExecuteAsync(target, string.Concat(KeyTypes.Select(k =>
            $"DELETE FROM {k.Table} WHERE k = '{k.Deleted}'; UPDATE {k.Table} SET n = 100 WHERE k = '{k.Changed}';")));
        foreach (var live in new[] { false, true })
        {
            var (tables, differences) = await CompareAsync(database, target,
                new CompareOptions { Live = live, LiveRetries = 1, LiveDelay = TimeSpan.FromMilliseconds(10) });
            Assert.Equal(KeyTypes.Length, tables.Count);
            Assert.All(tables, t => Assert.True((t.Missing, t.Extra, t.Mismatched) == (1L, 0L, 1L), $"{t.Table} (live {live}): {t.Status} {t.Missing} missing, {t.Extra} extra, {t.Mismatched} mismatched {t.Note}"));
            foreach (var k in KeyTypes)
            {
                Assert.Equal([$"Mismatch k={k.Changed}", $"Missing k={k.Deleted}"],
                    differences.Where(d => d.Table.Name == k.Table).Select(d => $"{d.Kind} {d.Key}").Order(StringComparer.Ordinal));
            }
        }
    }

    [Fact]
    public async Task AnExactCopyIsEqualWhateverTheTargetDatabasesSessionDefaults()
    {
        var (database, target) = await LoadAsync("vmset", """
            CREATE TABLE m (id INT PRIMARY KEY, ts TIMESTAMP(6) NULL, dtm DATETIME(6), d DATE, tm TIME(6), bl BLOB, f FLOAT, db DOUBLE, j JSON);
            INSERT INTO m VALUES (1, '2024-03-31 01:30:00.5', '2024-12-31 23:59:59.999999', '2024-02-29', '-838:59:59', 0x00FF5C27, 16777216, 0.30000000000000004, '{"n": 1e-30}'),
                                 (2, NULL, '1000-01-01 00:00:00', '1000-01-01', '00:00:00.000001', '', -1.2345678, 1e300, '[]');
            """);
        foreach (var setting in new[] { "TimeZone TO 'Asia/Kathmandu'", "DateStyle TO 'SQL, DMY'", "IntervalStyle TO 'sql_standard'", "bytea_output TO 'escape'", "extra_float_digits TO 0" })
        {
            await fixture.Target.ExecuteAsync(target, $"ALTER DATABASE \"{target}\" SET {setting}");
        }

        var (tables, differences) = await CompareAsync(database, target, new CompareOptions());
        Assert.True(Assert.Single(tables).Status == ComparisonStatus.Equal,
            string.Join("; ", differences.Select(d => $"{d.Key} {string.Join(",", d.Columns)}: {string.Join(",", d.SourceValues)} vs {string.Join(",", d.TargetValues)}")));
    }

    // MySQL compares a BIGINT UNSIGNED with a string as doubles, in which 18446744073709551614 and ...615 are one value.
    [Fact]
    public async Task AnExtraBigintUnsignedKeyIsLookedUpLiveByItsExactValue()
    {
        var (database, target) = await LoadAsync("vmbigu", "CREATE TABLE u (k BIGINT UNSIGNED PRIMARY KEY, n INT); INSERT INTO u VALUES (18446744073709551615, 1);");
        await fixture.Target.ExecuteAsync(target, "INSERT INTO u VALUES (18446744073709551614, 1)");

        var (tables, differences) = await CompareAsync(database, target, new CompareOptions { Live = true, LiveRetries = 1, LiveDelay = TimeSpan.FromMilliseconds(10) });
        Assert.Equal(1L, Assert.Single(tables).Extra);
        Assert.Equal("Extra k=18446744073709551614", $"{Assert.Single(differences).Kind} {differences[0].Key}");
    }

    private async Task<(string Database, string Target)> LoadAsync(string prefix, string sql)
    {
        var database = $"{prefix}_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, sql);
        var target = await fixture.NewTargetAsync(prefix);
        await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });
        return (database, target);
    }

    private Task<(IReadOnlyList<TableComparison> Tables, List<RowDifference> Differences)> CompareAsync(string database, string target, CompareOptions options) =>
        CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target), options);
}
