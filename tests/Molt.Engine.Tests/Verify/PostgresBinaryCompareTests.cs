using Molt.Engine.Endpoints;
using Molt.Engine.Logging;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.Tests.Load;
using Molt.Engine.Verify;
using Npgsql;

namespace Molt.Engine.Tests.Verify;

/// <summary>
/// The fast path (two PostgreSQL sides of the same column types: binary COPY rows compared as bytes) finds and names what
/// the text path does, and stays away from what it cannot compare as bytes.
/// </summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class PostgresBinaryCompareTests(PostgresSourceFixture fixture)
{
    private const string Binary = "comparing binary COPY rows as bytes";

    [Fact]
    public async Task EveryDifferenceKindIsFoundAndNamedByKeyOnTheBinaryPathWithTheTextPathsValues()
    {
        var (source, target) = await PairAsync("vbin", """
            CREATE TABLE every (id bigint PRIMARY KEY, i2 smallint, i4 int, b boolean, t text, v varchar(20), c char(4), bytes bytea, u uuid, d date,
                ts timestamp, tz timestamptz, tm time, span interval, n numeric(12,2), f4 real, f8 float8, j json, jb jsonb);
            INSERT INTO every SELECT g, g, g, g % 2 = 0, 'text ' || g, 'v' || g, 'c' || (g % 10), decode(lpad(to_hex(g), 4, '0'), 'hex'),
                md5(g::text)::uuid, date '2024-01-01' + g, timestamp '2024-01-01' + g * interval '1 minute', timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second',
                time '00:00' + g * interval '1 second', g * interval '1 day', g / 100.0, g / 8.0, g / 3.0, json_build_object('g', g), jsonb_build_object('g', g)
            FROM generate_series(1, 40) g;
            """);
        await fixture.Server.ExecuteAsync(target, """
            DELETE FROM every WHERE id = 2;
            INSERT INTO every (id) VALUES (100);
            UPDATE every SET i2 = 0 WHERE id = 3; UPDATE every SET i4 = 0 WHERE id = 4; UPDATE every SET b = NOT b WHERE id = 5;
            UPDATE every SET t = 'Text 6' WHERE id = 6; UPDATE every SET v = NULL WHERE id = 7; UPDATE every SET c = 'x' WHERE id = 8;
            UPDATE every SET bytes = '\x00' WHERE id = 9; UPDATE every SET u = md5('x')::uuid WHERE id = 10; UPDATE every SET d = d + 1 WHERE id = 11;
            UPDATE every SET ts = ts + interval '1 microsecond' WHERE id = 12; UPDATE every SET tz = tz - interval '1 hour' WHERE id = 13;
            UPDATE every SET tm = '23:59' WHERE id = 14; UPDATE every SET span = interval '24 hours' WHERE id = 15; UPDATE every SET n = 0.01 WHERE id = 16;
            UPDATE every SET f4 = 2.5 WHERE id = 17; UPDATE every SET f8 = 1e-300 WHERE id = 18; UPDATE every SET j = '{"g": 0}' WHERE id = 19;
            UPDATE every SET jb = '{"g": 20.5}' WHERE id = 20; UPDATE every SET i4 = 1, t = 'both' WHERE id = 21;
            """);

        var (tables, differences, log) = await CompareAsync(source, target, new CompareOptions());
        Assert.Contains(log, e => e.Contains(Binary, StringComparison.Ordinal));
        Assert.Equal((ComparisonStatus.Different, 40L, 40L, 1L, 1L, 19L),
            (tables[0].Status, tables[0].SourceRows, tables[0].TargetRows, tables[0].Missing, tables[0].Extra, tables[0].Mismatched));
        Assert.Equal(
            [
                "Missing id=2", "Mismatch id=3 i2", "Mismatch id=4 i4", "Mismatch id=5 b", "Mismatch id=6 t", "Mismatch id=7 v", "Mismatch id=8 c",
                "Mismatch id=9 bytes", "Mismatch id=10 u", "Mismatch id=11 d", "Mismatch id=12 ts", "Mismatch id=13 tz", "Mismatch id=14 tm",
                "Mismatch id=15 span", "Mismatch id=16 n", "Mismatch id=17 f4", "Mismatch id=18 f8", "Mismatch id=19 j", "Mismatch id=20 jb",
                "Mismatch id=21 i4,t", "Extra id=100",
            ],
            differences.OrderBy(d => long.Parse(d.Key[3..], System.Globalization.CultureInfo.InvariantCulture))
                .Select(d => d.Kind == DifferenceKind.Mismatch ? $"{d.Kind} {d.Key} {string.Join(",", d.Columns)}" : $"{d.Kind} {d.Key}"));
        // Values are shown as the text path shows them.
        var span = differences.Single(d => d.Key == "id=15");
        Assert.Equal(("15 days", "24:00:00"), (Assert.Single(span.SourceValues), Assert.Single(span.TargetValues)));
        Assert.Equal(["0.01"], differences.Single(d => d.Key == "id=16").TargetValues);
        Assert.Equal(18, differences.Single(d => d.Kind == DifferenceKind.Missing).SourceValues.Count);
        Assert.Equal("2024-01-01 00:00:13+00", differences.Single(d => d.Key == "id=13").SourceValues[0]);
    }

    [Fact]
    public async Task NegativeZeroNaNNumericScaleAndJsonFormsCompareOnTheBinaryPathAsOnTheTextPath()
    {
        // z takes the binary path; zt the text path (its v is varchar on the target), with the same floats.
        var (source, target) = await PairAsync("vbinzero", """
            CREATE TABLE z (id int PRIMARY KEY, f8 float8, f4 real, n numeric, j json, jb jsonb);
            INSERT INTO z VALUES (1, 0.0, 0.0, 1.0, '{"a": 1, "b": 2}', '{"a": 1}'), (2, 'NaN', 'NaN', 'NaN', '[1, 2]', '[1]'), (3, 1, 1, 1.50, '{}', '{}'),
                                 (4, 1, 1, 2, '{}', '{}'), (5, '-Infinity', 'Infinity', '-Infinity', '{}', '{}');
            CREATE TABLE zt (id int PRIMARY KEY, f8 float8, f4 real, v text);
            INSERT INTO zt VALUES (1, 0.0, 0.0, 'a'), (2, 'NaN', 'NaN', 'b'), (4, 1, 1, 'c'), (5, '-Infinity', 'Infinity', 'd');
            """);
        // Equal values in other bytes: numeric at another scale, json with other key order and spacing, -0.0 for 0.0 (both
        // databases compare them equal). Then one value that differs on each path.
        await fixture.Server.ExecuteAsync(target, """
            UPDATE z SET n = 1.00, j = '{"b":2,   "a":1}' WHERE id = 1;
            UPDATE z SET n = 1.5000 WHERE id = 3;
            UPDATE z SET f8 = '-0', f4 = '-0' WHERE id = 4;
            UPDATE z SET f8 = '-0' WHERE id = 1;
            UPDATE z SET f4 = 2 WHERE id = 5;
            ALTER TABLE zt ALTER COLUMN v TYPE varchar(20);
            UPDATE zt SET f8 = '-0', f4 = '-0' WHERE id = 1;
            UPDATE zt SET f8 = '-0', f4 = '-0' WHERE id = 4;
            UPDATE zt SET f8 = 2 WHERE id = 5;
            """);
        await fixture.Server.ExecuteAsync(source, "UPDATE z SET f8 = 0, f4 = 0 WHERE id = 4; UPDATE zt SET f8 = 0, f4 = 0 WHERE id = 4");
        Assert.Equal("-0 -0", await fixture.Server.ScalarAsync<string>(target, "SELECT f8::text || ' ' || f4::text FROM zt WHERE id = 4"));

        var (tables, differences, log) = await CompareAsync(source, target, new CompareOptions());
        Assert.Equal(1, log.Count(e => e.Contains(Binary, StringComparison.Ordinal)));
        Assert.All(tables, t => Assert.Equal(1L, t.Mismatched));
        Assert.Equal(["id=5 f4: Infinity vs 2", "id=5 f8: -Infinity vs 2"],
            differences.Select(d => $"{d.Key} {string.Join(",", d.Columns)}: {string.Join(",", d.SourceValues)} vs {string.Join(",", d.TargetValues)}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TextUuidAndCompositeKeysMergeInTheOrderBothServersSortThemOnTheBinaryPath()
    {
        // Case, accents, characters beyond U+FFFF, a prefix of another key, and a column collation that sorts otherwise.
        var (source, target) = await PairAsync("vbinkeys", """
            CREATE TABLE tk (k text COLLATE "und-x-icu" PRIMARY KEY, n int);
            INSERT INTO tk VALUES ('a', 1), ('B', 2), ('é', 3), ('e', 4), ('😀', 5), ('', 6), ('ab', 7), ('Z', 8), ('a b', 9);
            CREATE TABLE uk (k uuid PRIMARY KEY, n int);
            INSERT INTO uk SELECT md5(g::text)::uuid, g FROM generate_series(1, 50) g;
            CREATE TABLE ck (a int, b varchar(10), n int, PRIMARY KEY (a, b));
            INSERT INTO ck SELECT g % 3 - 1, chr(65 + g % 7) || g, g FROM generate_series(1, 30) g;
            """);
        var (equal, _, _) = await CompareAsync(source, target, new CompareOptions());
        Assert.All(equal, t => Assert.True(t.Status == ComparisonStatus.Equal, $"{t.Table}: {t.Missing} missing, {t.Extra} extra, {t.Mismatched} mismatched"));

        await fixture.Server.ExecuteAsync(target, """
            DELETE FROM tk WHERE k = 'é'; INSERT INTO tk VALUES ('ä', 10); UPDATE tk SET n = 0 WHERE k = '😀';
            DELETE FROM uk WHERE n = 7; UPDATE uk SET n = 0 WHERE n = 8;
            DELETE FROM ck WHERE n = 12; UPDATE ck SET n = 0 WHERE n = 13; INSERT INTO ck VALUES (-1, '', 99);
            """);
        var (tables, differences, log) = await CompareAsync(source, target, new CompareOptions());
        Assert.Equal(3, log.Count(e => e.Contains(Binary, StringComparison.Ordinal)));
        Assert.All(tables, t => Assert.Equal(t.Table.Name == "uk" ? (1L, 0L, 1L) : (1L, 1L, 1L), (t.Missing, t.Extra, t.Mismatched)));
        Assert.Equal(
            new[]
            {
                "ck Extra a=-1, b=", "ck Mismatch a=0, b=G13", "ck Missing a=-1, b=F12", "tk Extra k=ä", "tk Mismatch k=😀", "tk Missing k=é",
                $"uk Mismatch k={await KeyAsync(source, 8)}", $"uk Missing k={await KeyAsync(source, 7)}",
            }.Order(StringComparer.Ordinal),
            differences.Select(d => $"{d.Table.Name} {d.Kind} {d.Key}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TablesOfTypesTheBinaryPathDoesNotCompareAsBytesStayOnTheTextPathAndAreStillCompared()
    {
        var (source, target) = await PairAsync("vbinslow", """
            CREATE TYPE mood AS ENUM ('sad', 'happy');
            CREATE TABLE arr (id int PRIMARY KEY, a int[]); INSERT INTO arr VALUES (1, '{1,2}'), (2, '{3}');
            CREATE TABLE en (id int PRIMARY KEY, m mood); INSERT INTO en VALUES (1, 'sad'), (2, 'happy');
            CREATE TABLE nk (k numeric PRIMARY KEY, n int); INSERT INTO nk VALUES (1.5, 1), (2, 2);
            CREATE TABLE wide (id int PRIMARY KEY, v varchar(10)); INSERT INTO wide VALUES (1, 'a'), (2, 'b');
            """);
        await fixture.Server.ExecuteAsync(target, """
            UPDATE arr SET a = '{1,3}' WHERE id = 1; UPDATE en SET m = 'sad' WHERE id = 2; UPDATE nk SET n = 0 WHERE k = 2;
            ALTER TABLE wide ALTER COLUMN v TYPE varchar(20); UPDATE wide SET v = 'c' WHERE id = 2;
            """);

        var (tables, differences, log) = await CompareAsync(source, target, new CompareOptions());
        Assert.DoesNotContain(log, e => e.Contains(Binary, StringComparison.Ordinal));
        Assert.All(tables, t => Assert.Equal(1L, t.Mismatched));
        Assert.Equal(["arr id=1", "en id=2", "nk k=2", "wide id=2"], differences.Select(d => $"{d.Table.Name} {d.Key}").Order(StringComparer.Ordinal));
        Assert.Contains(log, e => e.Contains("column v is not of the same type on both sides", StringComparison.Ordinal));
        Assert.Contains(log, e => e.Contains("key column k is of type numeric", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NumericBinaryFormsReadAsNumericOutWritesThem()
    {
        var database = await fixture.NewDatabaseAsync("vbinnum");
        string[] literals = ["0", "0.0", "-0.000", "1", "-1", "10000", "9999.9999", "0.0001", "0.00001", "123456789012345678901234567890.123456789",
            "-0.5", "1e-20", "1e20", "12.340", "NaN", "Infinity", "-Infinity", "100000000", "0.10000"];
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString(database));
        await connection.OpenAsync();
        foreach (var literal in literals)
        {
            await using var command = new NpgsqlCommand("SELECT v::text, numeric_send(v) FROM (SELECT $1::numeric AS v) s", connection) { Parameters = { new NpgsqlParameter { Value = literal } } };
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.Equal(reader.GetString(0), BinaryValues.NumericText(reader.GetFieldValue<byte[]>(1)));
        }
    }

    [Fact]
    public void ThePlanComparesAsBytesOnlyKnownTypesDeclaredAlikeOnBothSides()
    {
        static ColumnModel Column(string name, string type, string declared, bool array = false) => new(name, 1, new ColumnType(type, declared) { IsArray = array }, true);
        var key = new[] { Column("id", "bigint", "bigint") };
        Assert.NotNull(BinaryRowPlan.For(key, key, [Column("n", "numeric", "numeric(12,2)")], [Column("n", "numeric", "numeric(12,2)")]).Plan);
        Assert.Equal("column n is not of the same type on both sides",
            BinaryRowPlan.For(key, key, [Column("n", "integer", "integer")], [Column("n", "bigint", "bigint")]).Reason);
        Assert.Equal("column a is of type integer[]", BinaryRowPlan.For(key, key, [Column("a", "integer", "integer[]", true)], [Column("a", "integer", "integer[]", true)]).Reason);
        Assert.Equal("column m is of type money", BinaryRowPlan.For(key, key, [Column("m", "money", "money")], [Column("m", "money", "money")]).Reason);
        Assert.Equal("key column k is of type date", BinaryRowPlan.For([Column("k", "date", "date")], [Column("k", "date", "date")], [], []).Reason);
        Assert.Equal("no primary key", BinaryRowPlan.For([], [], [Column("n", "integer", "integer")], [Column("n", "integer", "integer")]).Reason);
    }

    [Fact]
    public async Task ATableWhoseEveryColumnIsItsKeyIsComparedOnTheBinaryPathAndItsMissingAndExtraRowsNamed()
    {
        var (source, target) = await PairAsync("vbinkeyonly", """
            CREATE TABLE tags (tag text PRIMARY KEY);
            INSERT INTO tags VALUES ('a'), ('b'), ('c');
            CREATE TABLE pairs (a int, b bigint, PRIMARY KEY (a, b));
            INSERT INTO pairs SELECT g, g * 10 FROM generate_series(1, 20) g;
            """);
        var (equal, _, log) = await CompareAsync(source, target, new CompareOptions());
        Assert.Equal(2, log.Count(e => e.Contains(Binary, StringComparison.Ordinal)));
        Assert.All(equal, t => Assert.True(t.Status == ComparisonStatus.Equal, $"{t.Table}: {t.Status} {t.Note}"));

        await fixture.Server.ExecuteAsync(target, "DELETE FROM tags WHERE tag = 'b'; INSERT INTO tags VALUES ('d'); DELETE FROM pairs WHERE a = 5;");
        var (tables, differences, _) = await CompareAsync(source, target, new CompareOptions());
        Assert.All(tables, t => Assert.Equal(t.Table.Name == "tags" ? (1L, 1L, 0L) : (1L, 0L, 0L), (t.Missing, t.Extra, t.Mismatched)));
        Assert.Equal(new[] { "pairs Missing a=5, b=50", "tags Extra tag=d", "tags Missing tag=b" },
            differences.Select(d => $"{d.Table.Name} {d.Kind} {d.Key}").Order(StringComparer.Ordinal));
    }

    private async Task<string> KeyAsync(string database, int n) => (await fixture.Server.ScalarAsync<Guid>(database, $"SELECT k FROM uk WHERE n = {n}")).ToString("D");

    private async Task<(IReadOnlyList<TableComparison> Tables, List<RowDifference> Differences, List<string> Log)> CompareAsync(string source, string target,
        CompareOptions options)
    {
        var events = new List<string>();
        using var log = new MoltLogSession(e => { lock (events) { events.Add(e.Message); } }, minimumLevel: MoltLogLevel.Debug);
        var differences = new List<RowDifference>();
        var tables = await CompareSession.RunAsync(EndpointAddress.Parse(fixture.Server.ConnectionUri(source)), EndpointAddress.Parse(fixture.Server.ConnectionUri(target)),
            options with { Detailed = true }, new CompareCallbacks { Difference = d => { lock (differences) { differences.Add(d); } } }, log, CancellationToken.None);
        return (tables, differences, events);
    }

    private async Task<(string Source, string Target)> PairAsync(string prefix, string sql)
    {
        var source = await fixture.NewDatabaseAsync(prefix + "_src");
        var target = await fixture.NewDatabaseAsync(prefix + "_dst");
        await fixture.Server.ExecuteAsync(source, sql);
        await fixture.Server.ExecuteAsync(target, sql);
        return (source, target);
    }
}
