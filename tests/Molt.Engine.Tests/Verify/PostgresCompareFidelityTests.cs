using Molt.Engine.Tests.Load;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Verify;

/// <summary>Planted differences are found and named by key; exact copies are Equal whatever each database's session defaults.</summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class PostgresCompareFidelityTests(PostgresSourceFixture fixture)
{
    // Each database's defaults differ from the other's and from PostgreSQL's: the text forms of these types differ with them.
    private static readonly string[] SourceSettings =
        ["TimeZone TO 'Pacific/Auckland'", "DateStyle TO 'SQL, DMY'", "IntervalStyle TO 'sql_standard'", "bytea_output TO 'escape'", "extra_float_digits TO 0"];

    private static readonly string[] TargetSettings =
        ["TimeZone TO 'America/Denver'", "DateStyle TO 'German'", "IntervalStyle TO 'iso_8601'", "bytea_output TO 'hex'", "extra_float_digits TO 0"];

    [Fact]
    public async Task AnExactCopyIsEqualAcrossDifferingSessionSettings()
    {
        var (source, target) = await PairAsync("vset", """
            CREATE TABLE moments (id int PRIMARY KEY, at timestamptz, day date, span interval, bytes bytea, d float8, r real, n numeric, t time);
            INSERT INTO moments VALUES (1, '2024-03-31 01:30:00+00', '2024-12-31', '1 year 2 mons 3 days 04:05:06.789', '\x00ff5c27', 0.1::float8 + 0.2::float8, 1.2345678, 1.50, '13:14:15.5'),
                                       (2, '1999-01-01 00:00:00.000001+05:30', '0044-03-15 BC', '-3 days 01:00:00', '\x', 1e300, 16777216, 12345678901234567890.123456789, '00:00:00');
            """);

        var (tables, differences) = await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions());
        Assert.True(Assert.Single(tables).Status == ComparisonStatus.Equal, string.Join("; ", differences.Select(Describe)));
    }

    [Fact]
    public async Task Float8DifferingBeyondFifteenDigitsIsFoundUnderExtraFloatDigitsZero()
    {
        var (source, target) = await PairAsync("vf8", "CREATE TABLE f (id int PRIMARY KEY, d float8, r real); INSERT INTO f VALUES (1, 0.1::float8 + 0.2::float8, 1), (2, 1, 1.2345678);");
        await fixture.Server.ExecuteAsync(target, "UPDATE f SET d = 0.3 WHERE id = 1; UPDATE f SET r = 1.234567 WHERE id = 2;");

        var (tables, differences) = await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions());
        Assert.Equal(["id=1 d", "id=2 r"], differences.Select(d => $"{d.Key} {string.Join(",", d.Columns)}").Order(StringComparer.Ordinal));
        Assert.Equal(2L, Assert.Single(tables).Mismatched);
    }

    [Fact]
    public async Task JsonNumbersAreComparedExactlyAndADuplicateKeyCrashesNothing()
    {
        var (source, target) = await PairAsync("vjson", """
            CREATE TABLE docs (id int PRIMARY KEY, j json, b jsonb);
            INSERT INTO docs VALUES (1, '{"n": 0.000000000000000000000000000001}', '{"n": 1.00000000000000000000000000000001}'),
                                    (2, '{"a": 1, "a": 2}', '{"n": 12345678901234567890123456789012345678901234567890}'),
                                    (3, '{"b": 1.0, "a": [1e2, -0]}', '{"n": 1.50}');
            CREATE TABLE other (id int PRIMARY KEY, v text); INSERT INTO other VALUES (1, 'x');
            """);
        var (equal, none) = await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions());
        Assert.True(equal.All(t => t.Status == ComparisonStatus.Equal), string.Join("; ", equal.Select(t => $"{t.Table} {t.Status} {t.Note}")));
        Assert.Empty(none);

        await fixture.Server.ExecuteAsync(target, """
            UPDATE docs SET j = '{"n": 0.000000000000000000000000000002}', b = '{"n": 1.00000000000000000000000000000002}' WHERE id = 1;
            UPDATE docs SET j = '{"a": 1, "a": 3}', b = '{"n": 12345678901234567890123456789012345678901234567891}' WHERE id = 2;
            UPDATE other SET v = 'y';
            """);
        var (tables, differences) = await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions());
        Assert.Equal((2L, 1L), (tables.Single(t => t.Table.Name == "docs").Mismatched, tables.Single(t => t.Table.Name == "other").Mismatched));
        Assert.Equal(["id=1 j,b", "id=1 v", "id=2 j,b"], differences.Select(d => $"{d.Key} {string.Join(",", d.Columns)}").Order(StringComparer.Ordinal));
    }

    // The README's promise: numeric is compared by value (its scale is not), json by meaning (key order and whitespace are not compared).
    [Fact]
    public async Task NumericScaleAndJsonKeyOrderAreNotDifferences()
    {
        var (source, target) = await PairAsync("vpromise", "CREATE TABLE p (id int PRIMARY KEY, n numeric, j json); INSERT INTO p VALUES (1, 1.0, '{\"a\": 1, \"b\": 2}');");
        await fixture.Server.ExecuteAsync(target, "UPDATE p SET n = 1.00, j = '{\"b\":2,  \"a\":1}'");
        Assert.Equal(ComparisonStatus.Equal, Assert.Single((await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions())).Tables).Status);
    }

    [Fact]
    public async Task FloatToleranceNeverEquatesInfinitiesWithNumbersOrEachOther()
    {
        var (source, target) = await PairAsync("vtol", """
            CREATE TABLE t (id int PRIMARY KEY, d float8);
            INSERT INTO t VALUES (1, 'Infinity'), (2, 'Infinity'), (3, 'NaN'), (4, 'NaN'), (5, 1), (6, '-Infinity'), (7, 1e308);
            """);
        await fixture.Server.ExecuteAsync(target, "UPDATE t SET d = 1e308 WHERE id = 1; UPDATE t SET d = '-Infinity' WHERE id = 2; UPDATE t SET d = 1 WHERE id = 4; UPDATE t SET d = 1.0000001 WHERE id = 5;");

        var (tables, differences) = await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions { FloatTolerance = 1e-6 });
        Assert.Equal(3L, Assert.Single(tables).Mismatched);
        Assert.Equal(["id=1", "id=2", "id=4"], differences.Select(d => d.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RowsWithoutKeyDifferingOnlyInWhereASeparatorFallsAreDifferent()
    {
        var (source, target) = await PairAsync("vsep", "CREATE TABLE bag (a text, b text); INSERT INTO bag VALUES (E'x\\x01', 'y'), ('k', NULL);");
        await fixture.Server.ExecuteAsync(target, "TRUNCATE bag; INSERT INTO bag VALUES ('x', E'\\x01y'), ('k', '');");

        var bag = Assert.Single((await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions())).Tables);
        Assert.Equal((ComparisonStatus.Different, 2L, 2L), (bag.Status, bag.Missing, bag.Extra));
    }

    [Fact]
    public async Task KeysOfFloatTimeAndDateTypesMergeByValueAndAreRecheckedLive()
    {
        var (source, target) = await PairAsync("vkeys", """
            CREATE TABLE fk (k float8 PRIMARY KEY, n int); INSERT INTO fk VALUES (-1.5, 1), (2, 2), (10, 3), (1e20, 4), (0.5, 5);
            CREATE TABLE tk (k time PRIMARY KEY, n int); INSERT INTO tk VALUES ('01:00', 1), ('10:00', 2), ('02:30', 3), ('23:59:59.5', 4);
            CREATE TABLE dk (k date PRIMARY KEY, n int); INSERT INTO dk VALUES ('2020-01-02', 1), ('1999-12-31', 2), ('2020-10-01', 3);
            """);
        var (equal, _) = await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions());
        Assert.All(equal, t => Assert.True(t.Status == ComparisonStatus.Equal, $"{t.Table}: {t.Missing} missing, {t.Extra} extra"));

        await fixture.Server.ExecuteAsync(target, """
            DELETE FROM fk WHERE k = 2; UPDATE fk SET n = 0 WHERE k = 10;
            DELETE FROM tk WHERE k = '02:30'; UPDATE tk SET n = 0 WHERE k = '10:00';
            DELETE FROM dk WHERE k = '2020-10-01'; UPDATE dk SET n = 0 WHERE k = '2020-01-02';
            """);
        foreach (var live in new[] { false, true })
        {
            var (tables, differences) = await CompareHarness.CompareAsync(Uri(source), Uri(target),
                new CompareOptions { Live = live, LiveRetries = 1, LiveDelay = TimeSpan.FromMilliseconds(10) });
            Assert.All(tables, t => Assert.Equal((1L, 0L, 1L), (t.Missing, t.Extra, t.Mismatched)));
            Assert.Equal(new[] { "Mismatch k=10:00:00.000000", "Mismatch k=10", "Mismatch k=2020-01-02", "Missing k=2", "Missing k=2:30:00.000000", "Missing k=2020-10-01" }.Order(StringComparer.Ordinal),
                differences.Select(d => $"{d.Kind} {d.Key}").Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task ATableThatCannotBeReadIsAnErrorOfItsOwnAndTheOthersAreCompared()
    {
        var (source, target) = await PairAsync("vfail", "CREATE TABLE hidden (id int PRIMARY KEY); CREATE TABLE shown (id int PRIMARY KEY, v text); INSERT INTO shown VALUES (1, 'x');");
        var role = $"reader_{Guid.NewGuid():N}"[..16];
        const string password = "Secret-Pw-19";
        await fixture.Server.CreateRoleAsync(role, password);
        await fixture.Server.ExecuteAsync(target, $"GRANT SELECT ON shown TO {role}; GRANT INSERT ON hidden TO {role};");
        await fixture.Server.ExecuteAsync(target, "UPDATE shown SET v = 'y'");

        var (tables, differences) = await CompareHarness.CompareAsync(Uri(source), fixture.Server.ConnectionUri(target, role, password), new CompareOptions());
        var hidden = tables.Single(t => t.Table.Name == "hidden");
        Assert.Equal(ComparisonStatus.Error, hidden.Status);
        Assert.Contains("permission denied", hidden.Note);
        Assert.DoesNotContain(password, hidden.Note);
        Assert.Equal((ComparisonStatus.Different, 1L), (tables.Single(t => t.Table.Name == "shown").Status, tables.Single(t => t.Table.Name == "shown").Mismatched));
        Assert.Equal("id=1", Assert.Single(differences).Key);
    }

    private static string Describe(RowDifference d) =>
        $"{d.Key} {d.Kind} {string.Join(",", d.Columns)}: {string.Join(",", d.SourceValues)} vs {string.Join(",", d.TargetValues)}";

    /// <summary>Two databases holding the same rows, each with session defaults of its own.</summary>
    private async Task<(string Source, string Target)> PairAsync(string prefix, string sql)
    {
        var source = await fixture.NewDatabaseAsync(prefix + "_src");
        var target = await fixture.NewDatabaseAsync(prefix + "_dst");
        foreach (var (database, settings) in new[] { (source, SourceSettings), (target, TargetSettings) })
        {
            await fixture.Server.ExecuteAsync(database, sql);
            foreach (var setting in settings)
            {
                await fixture.Server.ExecuteAsync(database, $"ALTER DATABASE \"{database}\" SET {setting}");
            }
        }

        return (source, target);
    }

    private string Uri(string database) => fixture.Server.ConnectionUri(database);
}
