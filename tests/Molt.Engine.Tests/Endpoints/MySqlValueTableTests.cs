using System.Text;
using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Tests.Load;
using MySqlConnector;
using Npgsql;

namespace Molt.Engine.Tests.Endpoints;

/// <summary>
/// The one MySQL value table against real servers: rows read from MariaDB are written by each sink (binary COPY, CSV
/// COPY, INSERT with parameters) into its own PostgreSQL table, and the three tables must hold the same rows; inputs
/// shaped as a binlog decodes them must give the same target values as the data reader's.
/// </summary>
[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlValueTableTests(MySqlSourceFixture fixture)
{
    private const string Matrix = """
        SET SESSION sql_mode = '';
        CREATE TABLE matrix (
          id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT, mu MEDIUMINT UNSIGNED,
          i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, flag TINYINT(1), d28 DECIMAL(28,10), f FLOAT, db DOUBLE,
          b1 BIT(1), b10 BIT(10), b64 BIT(64), e ENUM('small','Large','it''s'), st SET('a','b','c'),
          c CHAR(4) CHARACTER SET utf8mb4, vc VARCHAR(20) CHARACTER SET utf8mb4, tx TEXT CHARACTER SET utf8mb4,
          l1 VARCHAR(20) CHARACTER SET latin1, lt TEXT CHARACTER SET latin1, bin BINARY(4), vb VARBINARY(10), bl BLOB,
          dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, tm TIME(6), y YEAR, j JSON, dn DATE NOT NULL);
        INSERT INTO matrix VALUES
          (1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, 1,
           999999999999999999.9999999999, 3.40282e38, 1.7976931348623157e308, b'1', b'1111111111', 0xFFFFFFFFFFFFFFFF, 'it''s', 'a,b,c',
           'abcd', 'héllo 😀', 'line1\nline2, "q"', 'café', UNHEX('E9FF80C381'), 'a\0b', 0x00FF00, 0x000102, '9999-12-31',
           '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', '838:59:59.000000', 2155, '{"k": [1, 2.5, null], "e": "😀"}', '2000-01-01'),
          (2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0,
           -999999999999999999.9999999999, -3.40282e38, -2.2250738585072014e-308, b'0', b'0000000000', 0, 'small', '',
           '', '', '', '', '', '', '', '', '1000-01-01', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01', '-838:59:59.000000', 1901, '[]',
           '2000-01-01'),
          (3, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0.0000000001, 1.17549e-38, 4.9e-324, b'1', b'0000000001', 0x8000000000000001, 'nope', 'a,c',
           ' a', 'x', '\\N', 'ÿ', UNHEX('80'), 'abcd', 0x00, 0x00, '0001-01-01', '0001-01-01 00:00:00', '2000-02-29 12:00:00.5', '-00:00:00.000001',
           0, 'null', '2000-01-01'),
          (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, '0000-00-00', '2024-02-00 10:00:00', '0000-00-00 00:00:00', '100:30:00.5', NULL, NULL, '2000-01-01'),
          (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2000-01-01'),
          (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '0000-00-00');
        """;

    [Theory]
    [InlineData(ZeroDateHandling.Null, new[] { 6 })]
    [InlineData(ZeroDateHandling.DropNotNull, new[] { 6 })]
    [InlineData(ZeroDateHandling.Reject, new[] { 4, 6 })]
    [InlineData(ZeroDateHandling.Sentinel, new int[0])]
    public async Task EveryMySqlTypeLandsTheSameByBinaryCopyCsvAndParametersAndZeroDatesAreRejectedAlikeByAll(ZeroDateHandling handling, int[] rejected)
    {
        var (target, tables) = await LoadThreeWaysAsync(Matrix, "matrix", handling);

        Assert.Equal(rejected, tables.Rejected);
        var copy = await RowsAsync(target, "matrix_copy");
        Assert.Equal(copy, await RowsAsync(target, "matrix_csv"));
        Assert.Equal(copy, await RowsAsync(target, "matrix_parameters"));
        Assert.Equal(6 - rejected.Length, copy.Count);

        async Task<string?> Value(int id, string expression) =>
            await fixture.Target.ScalarAsync<string>(target, $"SELECT ({expression})::text FROM matrix_copy WHERE id = {id}");
        Assert.Equal("127|255|32767|65535|8388607|16777215|2147483647|4294967295|9223372036854775807|18446744073709551615|1",
            await Value(1, "concat_ws('|', ti, tu, si, su, mi, mu, i, iu, bi, bu, flag)"));
        Assert.Equal("999999999999999999.9999999999|3.40282e+38|1.7976931348623157e+308", await Value(1, "concat_ws('|', d28, f, db)"));
        Assert.Equal("1|1111111111|" + new string('1', 64), await Value(1, "concat_ws('|', b1, b10, b64)"));
        Assert.Equal("1" + new string('0', 62) + "1", await Value(3, "b64"));
        Assert.Equal("it's|a,b,c|abcd|héllo 😀|line1\nline2, \"q\"|café|éÿ€Ã\u0081", await Value(1, "concat_ws('|', e, st, c, vc, tx, l1, lt)"));
        Assert.Equal("|a,c| a|x|\\N|ÿ|€", await Value(3, "concat_ws('|', e, st, c, vc, tx, l1, lt)"));
        Assert.Equal("\\x61006200|\\x00ff00|\\x000102", await Value(1, "concat_ws('|', bin, vb, bl)"));
        Assert.Equal("9999-12-31|9999-12-31 23:59:59.999999|2038-01-19 03:14:07.999999+00|838:59:59|2155",
            await Value(1, "concat_ws('|', dt, dtm, ts AT TIME ZONE 'UTC' || '+00', tm, y)"));
        // 0001-01-01 is a valid MySQL date: it must not become -infinity, which is how Npgsql writes DateTime.MinValue.
        Assert.Equal("0001-01-01|0001-01-01 00:00:00|2000-02-29 12:00:00.5+00|-00:00:00.000001|0",
            await Value(3, "concat_ws('|', dt, dtm, ts AT TIME ZONE 'UTC' || '+00', tm, y)"));
        Assert.Equal("-838:59:59|-3.40282e+38|-2.2250738585072014e-308|5e-324|1.17549e-38",
            await Value(2, "concat_ws('|', tm, f, db, (SELECT db FROM matrix_copy WHERE id = 3), (SELECT f FROM matrix_copy WHERE id = 3))"));
        Assert.Equal("😀|[1, 2.5, null]", await Value(1, "concat_ws('|', j->>'e', j->'k')"));
        if (handling != ZeroDateHandling.Reject)
        {
            Assert.Equal(handling == ZeroDateHandling.Sentinel ? "0001-01-01|0001-01-01 00:00:00|0001-01-01 00:00:00+00|100:30:00.5" : "100:30:00.5",
                await Value(4, "concat_ws('|', dt, dtm, ts AT TIME ZONE 'UTC' || '+00', tm)"));
        }
    }

    [Fact]
    public async Task DecimalsOf65DigitsLandTheSameByCsvAndParametersAndAreNeverSentByBinaryCopy()
    {
        var (target, tables) = await LoadThreeWaysAsync("""
            CREATE TABLE wide (id INT PRIMARY KEY, d DECIMAL(65,30), n DECIMAL(65,0));
            INSERT INTO wide VALUES (1, 99999999999999999999999999999999999.999999999999999999999999999999, 99999999999999999999999999999999999999999999999999999999999999999),
              (2, -99999999999999999999999999999999999.999999999999999999999999999999, -1), (3, 0.000000000000000000000000000001, 0), (4, NULL, NULL);
            """, "wide", ZeroDateHandling.Null);

        Assert.False(tables.CopiesAsBinary);
        var csv = await RowsAsync(target, "wide_csv");
        Assert.Equal(csv, await RowsAsync(target, "wide_parameters"));
        Assert.Equal([
            "(1,99999999999999999999999999999999999.999999999999999999999999999999,99999999999999999999999999999999999999999999999999999999999999999)",
            "(2,-99999999999999999999999999999999999.999999999999999999999999999999,-1)",
            "(3,0.000000000000000000000000000001,0)",
            "(4,,)"], csv);
    }

    [Fact]
    public async Task InputsShapedAsTheBinlogDecodesThemGiveTheDataReadersTargetValues()
    {
        var database = await SourceAsync(Matrix);
        var plan = await PlanAsync(database, "matrix", "matrix");
        var rows = await ReadAsync(database, plan);
        var converters = plan.Columns.ToDictionary(c => c.Name, c => MySqlValueTable.For(c, ZeroDateHandling.Sentinel));

        // What a row image holds: ENUM indexes, SET bitmaps, text as bytes in its character set, DECIMAL as text, TIMESTAMP as epoch microseconds.
        await using var connection = await MySqlConnections.OpenAsync(EndpointAddress.Parse(fixture.Source.ConnectionUri(database)), default);
        await using var command = new MySqlCommand(
            "SELECT id, e + 0, st + 0, HEX(c), HEX(vc), HEX(tx), HEX(l1), HEX(lt), CAST(d28 AS CHAR), CAST(UNIX_TIMESTAMP(ts) * 1000000 AS SIGNED) " +
            "FROM matrix ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var compared = 0;
        while (await reader.ReadAsync())
        {
            var row = rows[reader.GetInt32(0) - 1];
            var binlog = new Dictionary<string, MySqlValue>
            {
                ["e"] = reader.IsDBNull(1) ? MySqlValue.Null : MySqlValue.Of(reader.GetUInt64(1)),
                ["st"] = reader.IsDBNull(2) ? MySqlValue.Null : MySqlValue.Of(reader.GetUInt64(2)),
                ["c"] = Bytes(reader, 3), ["vc"] = Bytes(reader, 4), ["tx"] = Bytes(reader, 5), ["l1"] = Bytes(reader, 6), ["lt"] = Bytes(reader, 7),
                ["d28"] = reader.IsDBNull(8) ? MySqlValue.Null : MySqlValue.OfDecimalText(reader.GetString(8)),
                // The binlog stores a zero TIMESTAMP as 0 seconds: the adapter hands it over as the zero date.
                ["ts"] = reader.IsDBNull(9) ? MySqlValue.Null
                    : reader.GetInt64(9) == 0 ? MySqlValue.Of(new MySqlDateParts(0, 0, 0))
                    : MySqlValue.Of(MySqlDateParts.From(DateTime.UnixEpoch.AddTicks(reader.GetInt64(9) * 10))),
            };
            foreach (var (column, value) in binlog)
            {
                var fromReader = row[Ordinal(plan, column)];
                Assert.Equal(converters[column].ToCsv(fromReader), converters[column].ToCsv(value));
                Assert.Equal(converters[column].ToParameterValue(fromReader), converters[column].ToParameterValue(value));
                compared++;
            }
        }

        Assert.Equal(6 * 9, compared);

        static MySqlValue Bytes(MySqlDataReader reader, int ordinal) =>
            reader.IsDBNull(ordinal) ? MySqlValue.Null : MySqlValue.Of(Convert.FromHexString(reader.GetString(ordinal)));
    }

    [Fact]
    public async Task ASpatialValueIsReadAsMySqlsOwnBytesAndWrittenAsEwkbUnderABYTEAOverride()
    {
        var database = await SourceAsync("CREATE TABLE places (id INT PRIMARY KEY, pt POINT); " +
                                         "INSERT INTO places VALUES (1, ST_GeomFromText('POINT(1 2)', 4326)), (2, NULL);");
        var overrides = TypeMapOverrides.Parse($$"""[{"table": "{{database}}.places", "column_type_map": [{"column": "pt", "target_type": "bytea"}]}]""");
        var plan = await PlanAsync(database, "places", "places", overrides);
        var rows = await ReadAsync(database, plan);
        var converter = MySqlValueTable.For(plan.Columns[1], ZeroDateHandling.Null);

        // MySQL's SRID then WKB in, EWKB (the SRID flag in the type, the SRID after it) out: PostGIS's ST_AsEWKB of SRID=4326;POINT(1 2).
        Assert.Equal("e6100000" + "0101000000000000000000f03f0000000000000040",
            await fixture.Source.ScalarAsync<string>(database, "SELECT LOWER(HEX(pt)) FROM places WHERE id = 1"));
        const string ewkb = "0101000020e6100000000000000000f03f0000000000000040";
        Assert.Equal(MySqlValueKind.Bytes, rows[0][1].Kind);
        Assert.Equal("\\x" + ewkb, converter.ToCsv(rows[0][1]));
        Assert.Equal(Convert.FromHexString(ewkb), converter.ToParameterValue(rows[0][1]));
        Assert.Null(converter.ToCsv(rows[1][1]));
    }

    [Fact]
    public async Task AValueTheTargetTypeCannotHoldIsRejectedByEverySink()
    {
        var source = new ColumnModel("n", 1, new ColumnType("int", "int"), true);
        var smallint = MySqlValueTable.For(new TargetColumn(source, "n", new TargetType("smallint", "smallint", false), true), ZeroDateHandling.Null);
        var boolean = MySqlValueTable.For(new TargetColumn(source, "n", new TargetType("boolean", "boolean", false), true), ZeroDateHandling.Null);
        var target = await fixture.NewTargetAsync("values_range");
        await using var connection = new NpgsqlConnection(fixture.Target.ConnectionString(target));
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE range_check (s smallint, b boolean)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        foreach (var (converter, value, reason) in new[] { (smallint, 40000L, "does not fit"), (boolean, 2L, "neither 0 nor 1") })
        {
            var input = MySqlValue.Of(value);
            Assert.Contains(reason, Assert.Throws<RowRejectedException>(() => converter.ToCsv(input)).Reason);
            Assert.Contains(reason, Assert.Throws<RowRejectedException>(() => converter.ToParameterValue(input)).Reason);
            await using var importer = await connection.BeginBinaryImportAsync($"COPY range_check ({(converter == smallint ? "s" : "b")}) FROM STDIN (FORMAT binary)");
            await importer.StartRowAsync();
            Assert.Contains(reason, (await Assert.ThrowsAsync<RowRejectedException>(async () => await converter.WriteAsync(input, importer, default))).Reason);
        }
    }

    private sealed record LoadedTables(List<int> Rejected, bool CopiesAsBinary);

    /// <summary>
    /// Creates the source table, reads its rows once through the load's reader, and writes each row by every sink into
    /// its own target table (_copy, _csv, _parameters); returns the rows the sinks rejected (each sink must reject the same).
    /// </summary>
    private async Task<(string Target, LoadedTables Tables)> LoadThreeWaysAsync(string sql, string table, ZeroDateHandling handling)
    {
        var database = await SourceAsync(sql);
        var target = await fixture.NewTargetAsync($"values_{table}");
        var dialect = new PostgresDialect();
        var copyPlan = await PlanAsync(database, table, table + "_copy");
        var csvPlan = copyPlan with { Target = new TableName("public", table + "_csv") };
        var parameterPlan = copyPlan with { Target = new TableName("public", table + "_parameters") };
        var rows = await ReadAsync(database, copyPlan);
        var converters = copyPlan.Columns.Select(c => MySqlValueTable.For(c, handling)).ToList();
        var copiesAsBinary = converters.All(c => c.CopiesAsBinary);

        await using var connection = new NpgsqlConnection(fixture.Target.ConnectionString(target));
        await connection.OpenAsync();
        foreach (var plan in new[] { copyPlan, csvPlan, parameterPlan })
        {
            await using var create = new NpgsqlCommand(dialect.CreateTable(plan), connection);
            await create.ExecuteNonQueryAsync();
        }

        var rejectedBy = new Dictionary<string, List<int>> { ["copy"] = [], ["csv"] = [], ["parameters"] = [] };
        var lines = new StringBuilder();
        foreach (var row in rows)
        {
            var id = (int)row[0].Signed;
            if (copiesAsBinary && !await CopyRowAsync(connection, dialect.CopyFromStdin(copyPlan), converters, row))
            {
                rejectedBy["copy"].Add(id);
            }

            var line = new StringBuilder();
            try
            {
                for (var i = 0; i < converters.Count; i++)
                {
                    if (i > 0)
                    {
                        line.Append(',');
                    }

                    CsvField.Append(line, converters[i].ToCsv(row[i]));
                }

                lines.Append(line).Append('\n');
            }
            catch (RowRejectedException)
            {
                rejectedBy["csv"].Add(id);
            }

            try
            {
                var parameters = converters.Select((c, i) => c.ToParameter($"p{i}", row[i])).ToList();
                await using var insert = new NpgsqlCommand(
                    $"INSERT INTO {dialect.Quote(parameterPlan.Target)} VALUES ({string.Join(", ", parameters.Select(p => "@" + p.ParameterName))})", connection);
                insert.Parameters.AddRange(parameters.ToArray());
                await insert.ExecuteNonQueryAsync();
            }
            catch (RowRejectedException)
            {
                rejectedBy["parameters"].Add(id);
            }
        }

        await using (var writer = await connection.BeginTextImportAsync(dialect.CopyCsvFromStdin(csvPlan)))
        {
            await writer.WriteAsync(lines.ToString());
        }

        Assert.Equal(rejectedBy["csv"], rejectedBy["parameters"]);
        if (copiesAsBinary)
        {
            Assert.Equal(rejectedBy["csv"], rejectedBy["copy"]);
        }

        return (target, new LoadedTables(rejectedBy["csv"], copiesAsBinary));
    }

    /// <summary>One row in a binary COPY of its own, so that a rejected row leaves nothing behind (the COPY is cancelled).</summary>
    private static async Task<bool> CopyRowAsync(NpgsqlConnection connection, string copy, List<MySqlColumnConverter> converters, MySqlValue[] row)
    {
        await using var importer = await connection.BeginBinaryImportAsync(copy);
        await importer.StartRowAsync();
        try
        {
            for (var i = 0; i < converters.Count; i++)
            {
                await converters[i].WriteAsync(row[i], importer, default);
            }
        }
        catch (RowRejectedException)
        {
            // Disposed without completing, the import is cancelled.
            return false;
        }

        await importer.CompleteAsync();
        return true;
    }

    private async Task<string> SourceAsync(string sql)
    {
        var database = $"values_{Guid.NewGuid():N}"[..20];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, sql);
        return database;
    }

    private async Task<TablePlan> PlanAsync(string database, string table, string targetName, TypeMapOverrides? overrides = null)
    {
        var address = EndpointAddress.Parse(fixture.Source.ConnectionUri(database));
        var catalog = new MySqlCatalogReader(MySqlConnections.Builder(address).ConnectionString, database);
        var model = Assert.Single(await catalog.ReadTablesAsync(new TableFilter(tables: [table]), default));
        return TablePlanner.Plan(model, new TableName("public", targetName), new PostgresDialect(), SqlSyntax.MySql, overrides ?? TypeMapOverrides.None);
    }

    /// <summary>The rows as the load reads them: its SELECT, its session settings, its per-column getters.</summary>
    private async Task<List<MySqlValue[]>> ReadAsync(string database, TablePlan plan)
    {
        await using var connection = await MySqlConnections.OpenAsync(EndpointAddress.Parse(fixture.Source.ConnectionUri(database)), default);
        await using (var zone = new MySqlCommand("SET SESSION time_zone = '+00:00'", connection))
        {
            await zone.ExecuteNonQueryAsync();
        }

        var reads = plan.Columns.Select(c => MySqlReaderValues.For(c.Source)).ToList();
        await using var command = new MySqlCommand(MySqlSnapshot.SelectSql(plan, KeyRange.All, null) + " ORDER BY `id`", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<MySqlValue[]>();
        while (await reader.ReadAsync())
        {
            rows.Add(reads.Select((read, i) => read(reader, i)).ToArray());
        }

        return rows;
    }

    private async Task<List<string>> RowsAsync(string target, string table)
    {
        var text = await fixture.Target.ScalarAsync<string>(target, $"SELECT string_agg(t::text, E'\\x01' ORDER BY id) FROM {table} AS t");
        return (text ?? "").Split('\u0001').ToList();
    }

    private static int Ordinal(TablePlan plan, string column) => plan.Columns.ToList().FindIndex(c => c.Name == column);
}
