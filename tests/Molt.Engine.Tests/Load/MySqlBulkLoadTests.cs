using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Molt.Engine.Tests.Verify;
using Molt.Engine.Verify;
using Npgsql;

namespace Molt.Engine.Tests.Load;

[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlBulkLoadTests(MySqlSourceFixture fixture)
{
    private static readonly TypeMapOverrides SakilaSpatial =
        TypeMapOverrides.Parse("""[{"table": "sakila.address", "column_type_map": [{"column": "location", "target_type": "bytea"}]}]""");

    [Fact]
    public async Task SakilaArrivesWholeWithItsKeysAndEveryTableMatchesTheSource()
    {
        var target = await fixture.NewTargetAsync("sakila");
        var (plan, summary, tables, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri("sakila"), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, TypeMap = SakilaSpatial, ShardsPerTable = 3 });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Matches(@"^.+\.\d+:\d+$", RecordedPosition.Of(summary.SnapshotPosition!).Value);
        Assert.Matches(@"^\d+-\d+-\d+", RecordedPosition.Of(summary.SnapshotPosition!).GtidSet);
        Assert.Equal(16, plan.Tables.Count);
        await SakilaChecks.AssertArrivedWholeAsync(fixture, target, plan);
    }

    [Fact]
    public async Task EveryMySqlTypeArrivesValueByValue()
    {
        var database = $"torture_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, $$"""
            SET time_zone = '+05:30';
            {{TortureTables.MySql}}
            {{TortureTables.MySqlRows}}
            """);
        var target = await fixture.NewTargetAsync("torture");
        var (_, summary, _, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });
        Assert.Equal(RunStatus.Succeeded, summary.Status);

        async Task<string?> Row(int id, string expression) =>
            await fixture.Target.ScalarAsync<string>(target, $"SELECT ({expression})::text FROM \"Torture\" WHERE id = {id}");
        Assert.Equal("-128|255|-32768|65535|-8388608|16777215|-2147483648|4294967295|-9223372036854775808|18446744073709551615|2",
            await Row(1, "concat_ws('|', ti, tu, si, su, mi, mu, i, iu, bi, bu, flag)"));
        Assert.Equal("12345678901234567.012345678900000000000000000000", await Row(1, "d"));
        Assert.Equal("-999.99", await Row(1, "dm"));
        Assert.Equal("3.5", await Row(1, "f"));
        Assert.Equal("1.7976931348623157e+308", await Row(1, "db"));
        Assert.Equal("1000000001", await Row(1, "b"));
        Assert.Equal("2155", await Row(1, "y"));
        Assert.Equal("9999-12-31", await Row(1, "dt"));
        Assert.Equal("1000-01-01 00:00:00.000001", await Row(1, "dtm"));
        Assert.Equal("2038-01-18 21:44:07.999999+00", await Row(1, "ts AT TIME ZONE 'UTC' || '+00'"));
        Assert.Equal("-838:59:59", await Row(1, "tm"));
        Assert.Equal("838:59:59", await Row(2, "tm"));
        Assert.Equal("ab|héllo 😀|café|line1\nline2", await Row(1, "concat_ws('|', c, vc, l1, tx)"));
        Assert.Equal("\\x61006200|\\x00ff00|\\x000102030405", await Row(1, "concat_ws('|', bin, vb, bl)"));
        Assert.Equal("it's|a,c", await Row(1, "concat_ws('|', e, st)"));
        Assert.Equal("😀", await Row(1, "j->>'e'"));
        Assert.Equal("[1, 2.5, null]", await Row(1, "j->'k'"));
        Assert.Equal("0000000000", await Row(2, "b"));
        Assert.Equal("9999-12-31 23:59:59.999999", await Row(2, "dtm"));
        Assert.Equal("0", await Row(3, "num_nonnulls(ti, tu, si, su, mi, mu, i, iu, bi, bu, flag, d, dm, f, db, b, y, dt, dtm, ts, tm, c, vc, l1, tx, bin, vb, bl, e, st, j)"));
    }

    [Theory]
    [InlineData(ZeroDateHandling.Null)]
    [InlineData(ZeroDateHandling.Reject)]
    public async Task DecimalsWiderThan28DigitsArriveWithEveryDigitAndZeroDatesStillFollowTheOption(ZeroDateHandling handling)
    {
        var database = $"wide_{handling}_{Guid.NewGuid():N}"[..24];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            SET SESSION sql_mode = '';
            CREATE TABLE wide (id INT PRIMARY KEY, d DECIMAL(65,30), at DATETIME(6) NULL, note VARCHAR(20));
            INSERT INTO wide VALUES (1, 12345678901234567890123456789012345.123456789012345678901234567890, '2024-02-29 23:59:59.000001', 'a,"b"'),
              (2, -99999999999999999999999999999999999.999999999999999999999999999999, '0000-00-00 00:00:00', '\\N'), (3, NULL, NULL, NULL);
            """);
        var target = await fixture.NewTargetAsync("wide");
        var (_, summary, _, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, FetchId = $"wide-{handling}" }, sourceOptions: new SourceOptions { ZeroDates = handling });

        if (handling == ZeroDateHandling.Null)
        {
            Assert.Equal(RunStatus.Succeeded, summary.Status);
            Assert.Equal("1|12345678901234567890123456789012345.123456789012345678901234567890|2024-02-29 23:59:59.000001|a,\"b\" " +
                         "2|-99999999999999999999999999999999999.999999999999999999999999999999|\\N 3",
                await fixture.Target.ScalarAsync<string>(target, "SELECT string_agg(concat_ws('|', id, d, at, note), ' ' ORDER BY id) FROM wide"));

            // Compare-MoltData reads every digit too: equal, then one digit changed in the 30th decimal place is found.
            var (equal, _) = await Verify.CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target), new Engine.Verify.CompareOptions());
            Assert.Equal("Equal", Assert.Single(equal).Status);
            await fixture.Target.ExecuteAsync(target, "UPDATE wide SET d = d + 0.000000000000000000000000000001 WHERE id = 1");
            var (changed, differences) = await Verify.CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target), new Engine.Verify.CompareOptions());
            Assert.Equal(1L, Assert.Single(changed).Mismatched);
            Assert.Equal(["d"], Assert.Single(differences).Columns);
        }
        else
        {
            Assert.Equal(RunStatus.Failed, summary.Status);
            Assert.Equal("id=2", await fixture.Target.ScalarAsync<string>(target, "SELECT row_key FROM _molt.fetch_exceptions WHERE fetch_id = 'wide-Reject'"));
        }
    }

    [Theory]
    [InlineData(IdentifierCase.Preserve, "\"CustomerOrders\"", "\"OrderId\"", "\"Customers\"")]
    [InlineData(IdentifierCase.Lower, "customerorders", "orderid", "customers")]
    public async Task CamelCaseNamesArriveQuotedOrLowerCasedAsChosen(IdentifierCase names, string orders, string orderId, string customers)
    {
        var database = $"case_{names}_{Guid.NewGuid():N}"[..24];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            CREATE TABLE `Customers` (`CustomerId` INT PRIMARY KEY, `EMail` VARCHAR(50), UNIQUE KEY `UqEMail` (`EMail`));
            CREATE TABLE `CustomerOrders` (`OrderId` INT AUTO_INCREMENT PRIMARY KEY, `CustomerId` INT NOT NULL, `Total` DECIMAL(8,2),
              KEY `IxTotal` (`Total`), CONSTRAINT `FkCustomer` FOREIGN KEY (`CustomerId`) REFERENCES `Customers` (`CustomerId`));
            INSERT INTO `Customers` VALUES (1, 'a@x'), (2, 'b@x');
            INSERT INTO `CustomerOrders` (`CustomerId`, `Total`) VALUES (1, 9.99), (2, 20), (1, 0.5);
            """);
        var target = await fixture.NewTargetAsync("case");
        var (_, summary, _, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, IdentifierCase = names, FetchId = $"case-{names}" });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal("", await fixture.Target.ScalarAsync<string>(target,
            $"SELECT coalesce(string_agg(message, ' | '), '') FROM _molt.fetch_exceptions WHERE fetch_id = 'case-{names}'"));
        Assert.Equal("3|30.49", await fixture.Target.ScalarAsync<string>(target, $"SELECT count(*) || '|' || sum(t.\"{names.Apply("Total")}\") FROM {orders} t"));
        // Key, unique constraint, index, foreign key and identity, all on the target's names.
        Assert.Equal(5L, await fixture.Target.ScalarAsync<long>(target,
            $"SELECT (SELECT count(*) FROM pg_constraint WHERE conrelid IN ('{orders}'::regclass, '{customers}'::regclass)) + (SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%IxTotal')"));
        Assert.Equal(4L, await fixture.Target.ScalarAsync<long>(target, $"SELECT nextval(pg_get_serial_sequence('{orders}', '{orderId.Trim('"')}'))"));

        var (compared, _) = await Verify.CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new Engine.Verify.CompareOptions());
        Assert.All(compared, c => Assert.Equal("Equal", c.Status));
        Assert.Equal(2, compared.Count);
    }

    [Fact]
    public async Task OutOfRangeTimesAndNonUtf8BytesInLatin1ArriveAsTheSourceHoldsThem()
    {
        var database = $"odd_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        // Outside strict mode MariaDB clamps an out-of-range TIME to its limit; latin1 holds any byte, each a character.
        await fixture.Source.ExecuteAsync(database, """
            SET SESSION sql_mode = '';
            CREATE TABLE odd (id INT PRIMARY KEY, tm TIME, l1 VARCHAR(10) CHARACTER SET latin1);
            INSERT INTO odd VALUES (1, '900:00:00', UNHEX('E9FF80C3')), (2, '-1000:00:00', UNHEX('41')), (3, '24:00:01', NULL);
            """);
        var target = await fixture.NewTargetAsync("odd");
        var (_, summary, _, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal("838:59:59|-838:59:59|24:00:01", await fixture.Target.ScalarAsync<string>(target,
            "SELECT string_agg(tm::text, '|' ORDER BY id) FROM odd"));
        // 0xE9 0xFF 0x80 0xC3 in latin1 (MariaDB's latin1 is cp1252: 0x80 is the euro sign) are 'éÿ€Ã'.
        Assert.Equal("éÿ€Ã|A|", await fixture.Target.ScalarAsync<string>(target, "SELECT string_agg(coalesce(l1, ''), '|' ORDER BY id) FROM odd"));
    }

    [Theory]
    [InlineData(ZeroDateHandling.Null)]
    [InlineData(ZeroDateHandling.Reject)]
    public async Task ZeroDatesFollowTheChosenHandling(ZeroDateHandling handling)
    {
        var database = $"zero_{handling}_{Guid.NewGuid():N}"[..24];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            SET SESSION sql_mode = '';
            CREATE TABLE events (id INT PRIMARY KEY, happened DATETIME NULL, day DATE NULL);
            INSERT INTO events VALUES (1, '2024-05-01 10:00:00', '2024-05-01'), (2, '0000-00-00 00:00:00', '2024-00-10'), (3, NULL, NULL);
            CREATE TABLE others (id INT PRIMARY KEY);
            INSERT INTO others VALUES (1), (2);
            """);
        var target = await fixture.NewTargetAsync("zero");
        var (_, summary, tables, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, FetchId = $"zero-{handling}" },
            sourceOptions: new SourceOptions { ZeroDates = handling });

        Assert.Equal(TableLoadStatus.Succeeded, tables.Single(t => t.Table.Name == "others").Status);
        if (handling == ZeroDateHandling.Null)
        {
            Assert.Equal(RunStatus.Succeeded, summary.Status);
            Assert.Equal("2|2", await fixture.Target.ScalarAsync<string>(target, "SELECT count(*) FILTER (WHERE happened IS NULL) || '|' || count(*) FILTER (WHERE day IS NULL) FROM events"));
        }
        else
        {
            Assert.Equal(RunStatus.Failed, summary.Status);
            // The rejected row's shard is not loaded; the run says so and names the row.
            Assert.Equal(0L, await fixture.Target.ScalarAsync<long>(target, "SELECT count(*) FROM events WHERE id = 2"));
            var message = await fixture.Target.ScalarAsync<string>(target, $"SELECT message FROM _molt.fetch_exceptions WHERE fetch_id = 'zero-{handling}'");
            Assert.Contains("zero date 0000-00-00", message);
            Assert.Contains("column happened", message);
            Assert.Equal("id=2", await fixture.Target.ScalarAsync<string>(target, $"SELECT row_key FROM _molt.fetch_exceptions WHERE fetch_id = 'zero-{handling}'"));
        }
    }

    /// <summary>
    /// Zero dates in NOT NULL DATE and DATETIME columns (orders.placed has a zero month, orders.shipped is all zeros), none in
    /// the NOT NULL TIMESTAMP or in the clean table, and one in a nullable column (NULL is fine there).
    /// </summary>
    private async Task<string> ZeroDatesInNotNullColumnsAsync()
    {
        var database = $"znn_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            SET SESSION sql_mode = '';
            CREATE TABLE orders (id INT PRIMARY KEY, placed DATE NOT NULL, shipped DATETIME NOT NULL, touched TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
              note DATE NULL);
            INSERT INTO orders VALUES (1, '2024-05-01', '2024-05-01 10:00:00', '2024-05-01 10:00:00', '0000-00-00'),
              (2, '2024-00-10', '2024-05-02 10:00:00', '2024-05-02 10:00:00', NULL), (3, '2024-05-03', '0000-00-00 00:00:00', '2024-05-03 10:00:00', NULL);
            CREATE TABLE clean (id INT PRIMARY KEY, day DATE NOT NULL);
            INSERT INTO clean VALUES (1, '2024-05-01');
            """);
        return database;
    }

    [Fact]
    public async Task ZeroDatesInNotNullColumnsAreRefusedWhilePlanningNamingEachColumnAndTheChoices()
    {
        var database = await ZeroDatesInNotNullColumnsAsync();
        var target = await fixture.NewTargetAsync("znn");

        var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database),
            fixture.Target.ConnectionUri(target), new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate }));

        Assert.Equal("ZeroDatesInNotNullColumns", error.ErrorId);
        Assert.Contains($"{database}.orders.placed", error.Message);
        Assert.Contains($"{database}.orders.shipped", error.Message);
        Assert.DoesNotContain("touched", error.Message);
        Assert.DoesNotContain("note", error.Message);
        Assert.DoesNotContain("clean", error.Message);
        Assert.All(new[] { "-ZeroDateHandling", "DropNotNull", "Sentinel", "Reject" }, choice => Assert.Contains(choice, error.Remedy));
        Assert.Equal(0L, await fixture.Target.ScalarAsync<long>(target, "SELECT count(*) FROM information_schema.tables WHERE table_schema IN ('public', '_molt')"));
    }

    /// <summary>
    /// A table large enough to be scanned in key ranges side by side: one zero date near its first key and others, in
    /// other columns, near its middle and its last, so they lie in different ranges and all must be named. A TIMESTAMP
    /// one second after the epoch is not a zero date.
    /// </summary>
    [Fact]
    public async Task ZeroDatesInEachKeyRangeOfALargeTableAreAllFoundBeforeAnythingIsWritten()
    {
        var database = $"zbig_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            SET SESSION sql_mode = '';
            SET SESSION time_zone = '+00:00';
            CREATE TABLE big (id INT PRIMARY KEY, placed DATE NOT NULL, shipped DATETIME NOT NULL, stamped TIMESTAMP NOT NULL, touched TIMESTAMP(6) NOT NULL);
            INSERT INTO big SELECT seq, '2024-05-01', '2024-05-01 10:00:00', '2024-05-01 10:00:00', '2024-05-01 10:00:00' FROM seq_1_to_200000;
            UPDATE big SET placed = '2024-05-00' WHERE id = 7;
            UPDATE big SET stamped = '0000-00-00 00:00:00' WHERE id = 150001;
            UPDATE big SET shipped = '0000-00-00 00:00:00' WHERE id = 199993;
            UPDATE big SET touched = '1970-01-01 00:00:01' WHERE id = 3;
            ANALYZE TABLE big;
            """);
        Assert.True(await fixture.Source.ScalarAsync<long>(database,
            $"SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{database}' AND TABLE_NAME = 'big'") >= 100_000);
        var target = await fixture.NewTargetAsync("zbig");

        var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database),
            fixture.Target.ConnectionUri(target), new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate }));

        Assert.Equal("ZeroDatesInNotNullColumns", error.ErrorId);
        Assert.Contains($"{database}.big.placed, {database}.big.shipped, {database}.big.stamped", error.Message);
        Assert.DoesNotContain("touched", error.Message);
        Assert.Equal(0L, await fixture.Target.ScalarAsync<long>(target, "SELECT count(*) FROM information_schema.tables WHERE table_schema IN ('public', '_molt')"));
    }

    [Fact]
    public async Task DropNotNullLoadsZeroDatesAsNullIntoColumnsCreatedNullableAndWarnsOfEach()
    {
        var database = await ZeroDatesInNotNullColumnsAsync();
        var target = await fixture.NewTargetAsync("znn");

        var (_, summary, _, log) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate }, sourceOptions: new SourceOptions { ZeroDates = ZeroDateHandling.DropNotNull });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal("clean.day=NO clean.id=NO orders.id=NO orders.note=YES orders.placed=YES orders.shipped=YES orders.touched=NO",
            await fixture.Target.ScalarAsync<string>(target, "SELECT string_agg(table_name || '.' || column_name || '=' || is_nullable, ' ' ORDER BY table_name, column_name) " +
                                                             "FROM information_schema.columns WHERE table_schema = 'public'"));
        Assert.Equal("2|3|1", await fixture.Target.ScalarAsync<string>(target,
            "SELECT concat_ws('|', (SELECT id FROM orders WHERE placed IS NULL), (SELECT id FROM orders WHERE shipped IS NULL), (SELECT id FROM orders WHERE note IS NULL AND id = 1))"));
        var warnings = log.Where(l => l.StartsWith("Warning:", StringComparison.Ordinal)).ToList();
        Assert.Contains(warnings, w => w.Contains($"{database}.orders.placed") && w.Contains("nullable"));
        Assert.Contains(warnings, w => w.Contains($"{database}.orders.shipped") && w.Contains("nullable"));
        Assert.DoesNotContain(warnings, w => w.Contains("touched") || w.Contains("clean"));

        var (compared, _) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target), new CompareOptions());
        Assert.All(compared, c => Assert.Equal(ComparisonStatus.Equal, c.Status));
    }

    [Theory]
    [InlineData(TableHandling.None)]
    [InlineData(TableHandling.TruncateIfExists)]
    public async Task DropNotNullIsRefusedWhenMoltDoesNotCreateTheTables(TableHandling handling)
    {
        var database = await ZeroDatesInNotNullColumnsAsync();
        var target = await fixture.NewTargetAsync("znn");
        await fixture.Target.ExecuteAsync(target, "CREATE TABLE orders (id int PRIMARY KEY, placed date NOT NULL, shipped timestamp NOT NULL, touched timestamptz NOT NULL, note date); " +
                                                  "CREATE TABLE clean (id int PRIMARY KEY, day date NOT NULL)");

        var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database),
            fixture.Target.ConnectionUri(target), new BulkLoadOptions { TableHandling = handling },
            sourceOptions: new SourceOptions { ZeroDates = ZeroDateHandling.DropNotNull }));

        Assert.Equal("DropNotNullNeedsRecreate", error.ErrorId);
        Assert.Contains("-TableHandling DropAndRecreate", error.Remedy);
        Assert.Equal(0L, await fixture.Target.ScalarAsync<long>(target, "SELECT count(*) FROM information_schema.tables WHERE table_schema = '_molt'"));
    }

    // The wide table holds a DECIMAL beyond 28 digits, so it goes as CSV text: the sentinel is the same there.
    [Fact]
    public async Task SentinelLoadsEveryZeroDateAsTheFirstDayAndCompareMoltDataAgreesWhenToldSo()
    {
        var database = $"zsent_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            SET SESSION sql_mode = '';
            CREATE TABLE events (id INT PRIMARY KEY, day DATE NOT NULL, at DATETIME(6) NOT NULL, ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, opt DATE NULL);
            INSERT INTO events VALUES (1, '2024-05-01', '2024-05-01 10:00:00.5', '2024-05-01 10:00:00', NULL),
              (2, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '2024-00-10');
            CREATE TABLE wide (id INT PRIMARY KEY, d DECIMAL(65,30) NOT NULL, day DATE NOT NULL, at DATETIME NOT NULL);
            INSERT INTO wide VALUES (1, 1.5, '2024-05-01', '2024-05-01 10:00:00'), (2, 2.5, '2024-05-00', '0000-00-00 00:00:00');
            """);
        var target = await fixture.NewTargetAsync("zsent");

        var (_, summary, _, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate }, sourceOptions: new SourceOptions { ZeroDates = ZeroDateHandling.Sentinel });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal("0001-01-01|0001-01-01 00:00:00|0001-01-01 00:00:00|0001-01-01", await fixture.Target.ScalarAsync<string>(target,
            "SELECT concat_ws('|', day, at, ts AT TIME ZONE 'UTC', opt) FROM events WHERE id = 2"));
        Assert.Equal("2024-05-01|2024-05-01 10:00:00.5|2024-05-01 10:00:00|", await fixture.Target.ScalarAsync<string>(target,
            "SELECT concat_ws('|', day, at, ts AT TIME ZONE 'UTC', coalesce(opt::text, '')) FROM events WHERE id = 1"));
        Assert.Equal("0001-01-01|0001-01-01 00:00:00", await fixture.Target.ScalarAsync<string>(target, "SELECT concat_ws('|', day, at) FROM wide WHERE id = 2"));

        var (told, _) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new CompareOptions { ZeroDates = ZeroDateHandling.Sentinel });
        Assert.All(told, c => Assert.Equal(ComparisonStatus.Equal, c.Status));
        // Told the zero dates became NULL, it finds the rows that hold the sentinel instead.
        var (untold, _) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target), new CompareOptions());
        Assert.All(untold, c => Assert.Equal(1L, c.Mismatched));
    }

    // A DECIMAL beyond 28 digits sends the table as CSV text, where a zero TIMESTAMP loaded as NULL must stay NULL.
    [Fact]
    public async Task AZeroTimestampInATableSentAsCsvLoadsAsNull()
    {
        var database = $"zcsv_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            SET SESSION sql_mode = '';
            SET time_zone = '+00:00';
            CREATE TABLE wide (id INT PRIMARY KEY, d DECIMAL(65,30), ts TIMESTAMP NULL);
            INSERT INTO wide VALUES (1, 1.5, '2024-05-01 10:00:00'), (2, 2.5, '0000-00-00 00:00:00'), (3, 3.5, NULL);
            """);
        var target = await fixture.NewTargetAsync("zcsv");

        var (_, summary, _, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal("1:2024-05-01 10:00:00|2:|3:", await fixture.Target.ScalarAsync<string>(target,
            "SELECT string_agg(id || ':' || coalesce((ts AT TIME ZONE 'UTC')::text, ''), '|' ORDER BY id) FROM wide"));
    }

    [Fact]
    public async Task BytesAreTheSizeOfTheBinaryCopyStreamWrittenToTheTarget()
    {
        var database = $"bytes_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            CREATE TABLE sized (id INT PRIMARY KEY, ti TINYINT, big BIGINT, ubig BIGINT UNSIGNED, d DECIMAL(12,4), zero DECIMAL(8,2), f FLOAT, db DOUBLE,
              b BIT(10), y YEAR, dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME, vc VARCHAR(20), tx TEXT, bin VARBINARY(8), e ENUM('a', 'bé'),
              st SET('x', 'y'));
            INSERT INTO sized VALUES (1, -5, 9000000000, 18446744073709551615, 12345678.1234, 20.00, 1.5, 2.25, b'1000000001', 2024, '2024-05-01',
              '2024-05-01 10:00:00.123456', '2024-05-01 10:00:00.5', '-12:30:00', 'héllo 😀', REPEAT('long text ', 30), UNHEX('00FF10'), 'bé', 'x,y'),
              (2, NULL, NULL, NULL, 0.5, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL, ''),
              (3, 1, -1, 0, -0.0001, 999999.99, -3.25, 1e300, b'0', 1901, '1000-01-01', '9999-12-31 23:59:59', NULL, '838:59:59', 'x', 'y', '', 'a', 'x');
            CREATE TABLE wide (id INT PRIMARY KEY, d DECIMAL(65,30));
            INSERT INTO wide VALUES (1, 1.5), (2, NULL);
            """);
        var target = await fixture.NewTargetAsync("bytes");

        var (_, summary, tables, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        // One shard: the target's binary COPY of the table is the stream the load wrote, byte for byte in size.
        await using var connection = new NpgsqlConnection(fixture.Target.ConnectionString(target));
        await connection.OpenAsync();
        long written;
        await using (var copy = await connection.BeginRawBinaryCopyAsync("COPY sized TO STDOUT (FORMAT binary)"))
        {
            written = 0;
            var buffer = new byte[8192];
            int read;
            while ((read = await copy.ReadAsync(buffer.AsMemory(), CancellationToken.None)) > 0)
            {
                written += read;
            }
        }

        Assert.Equal(written, tables.Single(t => t.Table.Name == "sized").Bytes);
        // The wide table goes as CSV text: its bytes are the text's.
        Assert.InRange(tables.Single(t => t.Table.Name == "wide").Bytes, 1, 200);
        Assert.Equal(tables.Sum(t => t.Bytes), summary.Bytes);
        Assert.Equal(tables.Sum(t => t.Bytes), await fixture.Target.ScalarAsync<long>(target, "SELECT sum(bytes_loaded)::bigint FROM _molt.fetch_shards"));
    }

    // A key that is not an integer is split by its values in the source's own order (the column's collation for strings),
    // and each bound comes back as a literal of the key's type: quotes and backslashes, NUL bytes, 30 decimal places.
    [Theory]
    [InlineData("VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci", @"CONCAT(ELT(seq % 3 + 1, 'É', 'e''\\', 'a'), MD5(seq))")]
    [InlineData("VARCHAR(40) CHARACTER SET latin1", "CONCAT(IF(seq % 2 = 0, 'Ä', 'a'), MD5(seq))")]
    [InlineData("VARBINARY(17)", "UNHEX(CONCAT(IF(seq % 2 = 0, '00', 'FF'), MD5(seq)))")]
    [InlineData("DECIMAL(65,30)", "seq + 0.000000000000000000000000000001 * (seq % 7)")]
    public async Task AKeyThatIsNotAnIntegerIsSplitByItsValuesAndEveryRowArrivesOnce(string keyType, string key)
    {
        var database = $"parted_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, $"""
            CREATE TABLE parted (id {keyType} PRIMARY KEY, v INT NOT NULL);
            INSERT INTO parted SELECT {key}, seq FROM seq_1_to_30000;
            """);
        var target = await fixture.NewTargetAsync("parted");
        var (_, summary, tables, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, ShardsPerTable = 4, MinRowsPerShard = 1 });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(4, Assert.Single(tables).Shards);
        Assert.Equal(30_000L, await fixture.Target.ScalarAsync<long>(target, "SELECT count(*) FROM parted"));
        Assert.Equal(30_000L * 30_001 / 2, await fixture.Target.ScalarAsync<long>(target, "SELECT sum(v) FROM parted"));
        var (compared, differences) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new CompareOptions());
        Assert.True(Assert.Single(compared).Status == ComparisonStatus.Equal, string.Join("; ", differences.Take(3).Select(d => $"{d.Kind} {d.Key}")));
    }

    // The target must equal the source as it was at the GTID the load recorded, since binlog replication starts there:
    // every writer transaction at or before it is in the target, none after it. The writer's transactions are
    // replayed on the initial rows up to that GTID to build the expected table.
    [Fact]
    public async Task WritesDuringTheLoadDoNotLeakIntoTheSnapshotAndTheTargetIsTheSourceAtTheRecordedGtid()
    {
        var database = $"live_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            CREATE TABLE ledger (id BIGINT PRIMARY KEY, amount INT NOT NULL);
            INSERT INTO ledger SELECT seq, 1 FROM seq_1_to_200000;
            """);
        var target = await fixture.NewTargetAsync("live");
        using var stop = new CancellationTokenSource();
        var transactions = new List<(long Sequence, int From, long Inserted)>();
        // A writer keeps moving amounts between rows (the total stays 200000) and inserting new rows while the load runs.
        var writer = Task.Run(async () =>
        {
            var random = new Random(7);
            while (!stop.IsCancellationRequested)
            {
                var from = random.Next(1, 200_000);
                var inserted = 1_000_000L + transactions.Count;
                var gtid = await fixture.Source.ScalarAsync<string>(database,
                    $"START TRANSACTION; UPDATE ledger SET amount = amount - 1 WHERE id = {from}; UPDATE ledger SET amount = amount + 1 WHERE id = {from + 1}; " +
                    $"INSERT INTO ledger VALUES ({inserted}, 0); COMMIT; SELECT @@last_gtid;");
                transactions.Add((Sequence(gtid!), from, inserted));
            }
        });
        BulkLoadSummary summary;
        try
        {
            (_, summary, _, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
                new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, ShardsPerTable = 4 });
            Assert.Equal(RunStatus.Succeeded, summary.Status);
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }

        var snapshot = Sequence(RecordedPosition.Of(summary.SnapshotPosition!).GtidSet!);
        var expected = new Dictionary<long, int>();
        foreach (var (_, from, inserted) in transactions.Where(t => t.Sequence <= snapshot))
        {
            expected[from] = expected.GetValueOrDefault(from, 1) - 1;
            expected[from + 1] = expected.GetValueOrDefault(from + 1, 1) + 1;
            expected[inserted] = 0;
        }

        // Rows the writer never touched still hold 1; the rest are listed, with the rows it touched back to 1 left out.
        var actual = new Dictionary<long, int>();
        foreach (var row in (await fixture.Target.ScalarAsync<string>(target,
                     "SELECT coalesce(string_agg(id || ':' || amount, ',' ORDER BY id), '') FROM ledger WHERE amount <> 1 OR id > 200000"))!
                 .Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = row.Split(':');
            actual[long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)] = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        }

        Assert.True(transactions.Any(t => t.Sequence <= snapshot) && transactions.Any(t => t.Sequence > snapshot),
            $"the writer's {transactions.Count} transactions should fall on both sides of the snapshot {RecordedPosition.Of(summary.SnapshotPosition!).GtidSet}");
        Assert.Equal(expected.Where(e => e.Value != 1 || e.Key > 200_000).OrderBy(e => e.Key), actual.OrderBy(e => e.Key));
        Assert.Equal(200_000L, await fixture.Target.ScalarAsync<long>(target, "SELECT count(*) FROM ledger WHERE id <= 200000"));

        // The sequence number of domain 0 in a MariaDB GTID or GTID set ("0-1-42").
        static long Sequence(string gtid) => long.Parse(gtid.Split(',').Single(g => g.StartsWith("0-", StringComparison.Ordinal)).Split('-')[2], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task TheEnumValuesOfAColumnTypeAreParsedWithTheirQuotes() =>
        Assert.Equal(["a", "it's", "x,y", "back\\slash"], MySqlEnumValues.Parse("enum('a','it''s','x,y','back\\\\slash')"));
}
