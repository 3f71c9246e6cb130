using Molt.MySqlBinlog.Events;
using Molt.MySqlBinlog.Values;
using Molt.Testing;

namespace Molt.MySqlBinlog.Tests;

/// <summary>Every column type, at its extremes, NULL and zero dates, written to MariaDB and read back from the binlog.</summary>
[Collection(BinlogServerCollection.Name)]
public sealed class TypeMatrixTests(BinlogServerFixture fixture)
{
    internal const string Columns = """
        `id` INT PRIMARY KEY,
        `ti` TINYINT, `tiu` TINYINT UNSIGNED, `si` SMALLINT, `siu` SMALLINT UNSIGNED, `mi` MEDIUMINT, `miu` MEDIUMINT UNSIGNED,
        `i` INT, `iu` INT UNSIGNED, `bi` BIGINT, `biu` BIGINT UNSIGNED,
        `d1` DECIMAL(10,2), `d2` DECIMAL(65,30), `d3` DECIMAL(5,0), `d4` DECIMAL(18,9),
        `f` FLOAT, `db` DOUBLE, `b1` BIT(1), `b64` BIT(64), `b10` BIT(10),
        `e` ENUM('a','b','c'), `s` SET('x','y','z'),
        `c` CHAR(10), `vc` VARCHAR(300), `vcl` VARCHAR(20) CHARACTER SET latin1, `bn` BINARY(4), `vb` VARBINARY(10),
        `tt` TINYTEXT, `tx` TEXT, `mt` MEDIUMTEXT, `bl` BLOB, `lb` LONGBLOB,
        `dt` DATE, `tm` TIME, `tm6` TIME(6), `tm3` TIME(3), `tm1` TIME(1),
        `dtm` DATETIME, `dtm6` DATETIME(6), `dtm2` DATETIME(2), `ts` TIMESTAMP NULL, `ts6` TIMESTAMP(6) NULL,
        `y` YEAR, `j` JSON, `g` GEOMETRY, `c255` CHAR(255) CHARACTER SET utf8mb4
        """;

    private static readonly string[] Names =
    [
        "id", "ti", "tiu", "si", "siu", "mi", "miu", "i", "iu", "bi", "biu", "d1", "d2", "d3", "d4", "f", "db", "b1", "b64", "b10", "e", "s",
        "c", "vc", "vcl", "bn", "vb", "tt", "tx", "mt", "bl", "lb", "dt", "tm", "tm6", "tm3", "tm1", "dtm", "dtm6", "dtm2", "ts", "ts6",
        "y", "j", "g", "c255",
    ];

    internal const string MaxRow = """
        (1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
         12345678.91, 99999999999999999999999999999999999.999999999999999999999999999999, 99999, 123456789.123456789,
         1.5, -2.5e300, b'1', 0xFFFFFFFFFFFFFFFF, b'1000000001', 'c', 'x,z',
         'abc', REPEAT('é', 300), CONVERT('café' USING latin1), 0x00FF0001, 0x0102,
         'tiny', 'text', 'medium', 0x00FF, 0x01,
         '9999-12-31', '838:59:59', '-12:34:56.789012', '-00:00:00.001', '-25:00:00.5',
         '9999-12-31 23:59:59', '2024-02-29 12:34:56.123456', '1000-01-01 00:00:00.01', '2038-01-19 03:14:07', '1970-01-01 00:00:01.000001',
         2155, '{"a": [1, 2]}', ST_GeomFromText('POINT(1 2)'), 'x')
        """;

    private const string MinRow = """
        (2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
         -12345678.91, -0.000000000000000000000000000001, -99999, -0.000000001,
         -3.25, 1.7976931348623157e308, b'0', 0, 0, 'a', '',
         '', '', '', 0x00000000, '',
         '', '', '', '', '',
         '1000-01-01', '-838:59:59', '00:00:00.000001', '23:59:59.999', '-00:00:00.1',
         '1000-01-01 00:00:00', '1000-01-01 00:00:00.000001', '2000-01-01 00:00:00.99', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999',
         1901, '[]', NULL, REPEAT('€', 255))
        """;

    private const string NullRow = "(3" + ", NULL" + ", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL," +
        " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)";

    internal const string ZeroRow = """
        (4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', 0, 0, '', '',
         '', '', '', 0x00000000, '', '', '', '', '', '',
         '0000-00-00', '00:00:00', '00:00:00', '00:00:00', '00:00:00',
         '0000-00-00 00:00:00', '2024-00-10 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
         0, 'null', NULL, '')
        """;

    internal static readonly Dictionary<string, object?> MaxValues = new()
    {
        ["id"] = 1L, ["ti"] = 127L, ["tiu"] = 255UL, ["si"] = 32767L, ["siu"] = 65535UL, ["mi"] = 8388607L, ["miu"] = 16777215UL,
        ["i"] = 2147483647L, ["iu"] = 4294967295UL, ["bi"] = long.MaxValue, ["biu"] = ulong.MaxValue,
        ["d1"] = "12345678.91", ["d2"] = "99999999999999999999999999999999999.999999999999999999999999999999", ["d3"] = "99999", ["d4"] = "123456789.123456789",
        ["f"] = 1.5f, ["db"] = -2.5e300, ["b1"] = 1UL, ["b64"] = ulong.MaxValue, ["b10"] = 513UL, ["e"] = 3L, ["s"] = 5UL,
        ["c"] = Canonical.Utf8("abc"), ["vc"] = Canonical.Utf8(string.Concat(Enumerable.Repeat("é", 300))), ["vcl"] = new byte[] { 0x63, 0x61, 0x66, 0xE9 },
        ["bn"] = new byte[] { 0, 0xFF, 0, 1 }, ["vb"] = new byte[] { 1, 2 },
        ["tt"] = Canonical.Utf8("tiny"), ["tx"] = Canonical.Utf8("text"), ["mt"] = Canonical.Utf8("medium"), ["bl"] = new byte[] { 0, 0xFF }, ["lb"] = new byte[] { 1 },
        ["dt"] = new MySqlDateTime(9999, 12, 31), ["tm"] = new MySqlTime(false, 838, 59, 59), ["tm6"] = new MySqlTime(true, 12, 34, 56, 789012),
        ["tm3"] = new MySqlTime(true, 0, 0, 0, 1000), ["tm1"] = new MySqlTime(true, 25, 0, 0, 500000),
        ["dtm"] = new MySqlDateTime(9999, 12, 31, 23, 59, 59), ["dtm6"] = new MySqlDateTime(2024, 2, 29, 12, 34, 56, 123456),
        ["dtm2"] = new MySqlDateTime(1000, 1, 1, 0, 0, 0, 10000), ["ts"] = new MySqlTimestamp(2147483647), ["ts6"] = new MySqlTimestamp(1, 1),
        ["y"] = 2155L, ["j"] = Canonical.Utf8("{\"a\": [1, 2]}"),
        ["g"] = Convert.FromHexString("00000000" + "0101000000" + "000000000000F03F" + "0000000000000040"), ["c255"] = Canonical.Utf8("x"),
    };

    private static readonly Dictionary<string, object?> MinValues = new()
    {
        ["id"] = 2L, ["ti"] = -128L, ["tiu"] = 0UL, ["si"] = -32768L, ["siu"] = 0UL, ["mi"] = -8388608L, ["miu"] = 0UL,
        ["i"] = -2147483648L, ["iu"] = 0UL, ["bi"] = long.MinValue, ["biu"] = 0UL,
        ["d1"] = "-12345678.91", ["d2"] = "-0.000000000000000000000000000001", ["d3"] = "-99999", ["d4"] = "-0.000000001",
        ["f"] = -3.25f, ["db"] = 1.7976931348623157e308, ["b1"] = 0UL, ["b64"] = 0UL, ["b10"] = 0UL, ["e"] = 1L, ["s"] = 0UL,
        ["c"] = Array.Empty<byte>(), ["vc"] = Array.Empty<byte>(), ["vcl"] = Array.Empty<byte>(), ["bn"] = new byte[4], ["vb"] = Array.Empty<byte>(),
        ["tt"] = Array.Empty<byte>(), ["tx"] = Array.Empty<byte>(), ["mt"] = Array.Empty<byte>(), ["bl"] = Array.Empty<byte>(), ["lb"] = Array.Empty<byte>(),
        ["dt"] = new MySqlDateTime(1000, 1, 1), ["tm"] = new MySqlTime(true, 838, 59, 59), ["tm6"] = new MySqlTime(false, 0, 0, 0, 1),
        ["tm3"] = new MySqlTime(false, 23, 59, 59, 999000), ["tm1"] = new MySqlTime(true, 0, 0, 0, 100000),
        ["dtm"] = new MySqlDateTime(1000, 1, 1), ["dtm6"] = new MySqlDateTime(1000, 1, 1, 0, 0, 0, 1),
        ["dtm2"] = new MySqlDateTime(2000, 1, 1, 0, 0, 0, 990000), ["ts"] = new MySqlTimestamp(1), ["ts6"] = new MySqlTimestamp(2147483647, 999999),
        ["y"] = 1901L, ["j"] = Canonical.Utf8("[]"), ["g"] = null, ["c255"] = Canonical.Utf8(string.Concat(Enumerable.Repeat("€", 255))),
    };

    internal static readonly Dictionary<string, object?> ZeroValues = new()
    {
        ["id"] = 4L, ["ti"] = 0L, ["tiu"] = 0UL, ["si"] = 0L, ["siu"] = 0UL, ["mi"] = 0L, ["miu"] = 0UL, ["i"] = 0L, ["iu"] = 0UL, ["bi"] = 0L, ["biu"] = 0UL,
        ["d1"] = "0.00", ["d2"] = "0." + new string('0', 30), ["d3"] = "0", ["d4"] = "0.000000000",
        ["f"] = 0f, ["db"] = 0d, ["b1"] = 0UL, ["b64"] = 0UL, ["b10"] = 0UL, ["e"] = 0L, ["s"] = 0UL,
        ["c"] = Array.Empty<byte>(), ["vc"] = Array.Empty<byte>(), ["vcl"] = Array.Empty<byte>(), ["bn"] = new byte[4], ["vb"] = Array.Empty<byte>(),
        ["tt"] = Array.Empty<byte>(), ["tx"] = Array.Empty<byte>(), ["mt"] = Array.Empty<byte>(), ["bl"] = Array.Empty<byte>(), ["lb"] = Array.Empty<byte>(),
        ["dt"] = new MySqlDateTime(0, 0, 0), ["tm"] = new MySqlTime(false, 0, 0, 0), ["tm6"] = new MySqlTime(false, 0, 0, 0),
        ["tm3"] = new MySqlTime(false, 0, 0, 0), ["tm1"] = new MySqlTime(false, 0, 0, 0),
        ["dtm"] = new MySqlDateTime(0, 0, 0), ["dtm6"] = new MySqlDateTime(2024, 0, 10), ["dtm2"] = new MySqlDateTime(0, 0, 0),
        ["ts"] = new MySqlTimestamp(0), ["ts6"] = new MySqlTimestamp(0), ["y"] = 0L, ["j"] = Canonical.Utf8("null"), ["g"] = null, ["c255"] = Array.Empty<byte>(),
    };

    [Fact]
    public async Task Every_type_inserted_at_its_extremes_null_and_zero_decodes_to_the_value_written()
    {
        var rows = await InsertAndReadAsync(fixture.Server, "matrix_full");

        AssertRow(MaxValues, rows[0].After!);
        AssertRow(MinValues, rows[1].After!);
        Assert.Equal(3L, rows[2].After![0]);
        Assert.All(Enumerable.Range(1, Names.Length - 1), i => Assert.True(rows[2].After!.IsNull(i), Names[i]));
        AssertRow(ZeroValues, rows[3].After!);
    }

    [Fact]
    public async Task Full_row_metadata_gives_names_signedness_charsets_labels_and_the_primary_key()
    {
        var start = await Live.GtidPositionAsync(fixture.Server);
        await Live.ExecuteAsync(fixture.Server, "shop", $"CREATE TABLE `matrix_meta` ({Columns})", $"INSERT INTO `matrix_meta` VALUES {NullRow}");

        var table = (await Live.ReadToEndAsync(fixture.Server, BinlogStart.AtMariaDbGtid(start))).OfType<TableMapEvent>().Single();

        Assert.Equal(Names, table.Columns.Select(c => c.Name));
        Assert.True(table.Columns[0].IsPrimaryKey);
        Assert.False(table.Columns[1].IsPrimaryKey);
        Assert.Equal(false, table.Columns[Array.IndexOf(Names, "ti")].IsUnsigned);
        Assert.Equal(true, table.Columns[Array.IndexOf(Names, "biu")].IsUnsigned);
        Assert.Equal(["a", "b", "c"], table.Columns[Array.IndexOf(Names, "e")].EnumValues!);
        Assert.Equal("x,z", table.Columns[Array.IndexOf(Names, "s")].SetLabels(5));
        Assert.Equal(8, table.Columns[Array.IndexOf(Names, "vcl")].CollationId); // latin1_swedish_ci
        Assert.True(table.Columns[Array.IndexOf(Names, "vb")].IsBinaryCollation);
        Assert.True(table.Columns[Array.IndexOf(Names, "bl")].IsBinaryCollation);
        Assert.False(table.Columns[Array.IndexOf(Names, "tx")].IsBinaryCollation);
        // MariaDB lists GEOMETRY among the character columns: the columns after it must still get their own collation.
        Assert.True(table.Columns[Array.IndexOf(Names, "g")].IsBinaryCollation);
        Assert.False(table.Columns[Array.IndexOf(Names, "c255")].IsBinaryCollation);
    }

    [Fact]
    public async Task Updates_and_deletes_under_the_full_row_image_carry_every_column_before_and_after()
    {
        var start = await Live.GtidPositionAsync(fixture.Server);
        await Live.ExecuteAsync(fixture.Server, "shop", $"CREATE TABLE `matrix_upd` ({Columns})", "SET time_zone = '+00:00'",
            $"INSERT INTO `matrix_upd` VALUES {MaxRow}, {MinRow}",
            "UPDATE `matrix_upd` SET `ti` = 5, `vc` = 'new' WHERE `id` = 1", "DELETE FROM `matrix_upd` WHERE `id` = 2");

        var events = (await Live.ReadToEndAsync(fixture.Server, BinlogStart.AtMariaDbGtid(start))).OfType<RowsEvent>().ToList();

        var update = Assert.Single(events, e => e.Kind == RowsEventKind.Update).Rows.Single();
        AssertRow(MaxValues, update.Before!);
        AssertRow(new Dictionary<string, object?>(MaxValues) { ["ti"] = 5L, ["vc"] = Canonical.Utf8("new") }, update.After!);
        var delete = Assert.Single(events, e => e.Kind == RowsEventKind.Delete).Rows.Single();
        Assert.Null(delete.After);
        AssertRow(MinValues, delete.Before!);
    }

    [Fact]
    public async Task The_minimal_row_image_marks_the_columns_it_leaves_out_as_absent()
    {
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            BinlogRowImage = "MINIMAL", ExtraSettings = new Dictionary<string, string> { ["binlog-row-metadata"] = "MINIMAL" },
        });
        await server.CreateDatabaseAsync("shop");
        var start = await Live.GtidPositionAsync(server);
        await Live.ExecuteAsync(server, "shop", $"CREATE TABLE `matrix_min` ({Columns})", "SET time_zone = '+00:00'",
            $"INSERT INTO `matrix_min` VALUES {MaxRow}, {MinRow}",
            "UPDATE `matrix_min` SET `ti` = 5, `vc` = NULL WHERE `id` = 1", "DELETE FROM `matrix_min` WHERE `id` = 2");
        // Without FULL metadata the signedness comes from the caller (Molt reads it from the catalog).
        var unsigned = Names.Select(n => n.EndsWith('u')).ToArray();

        var events = (await Live.ReadToEndAsync(server, BinlogStart.AtMariaDbGtid(start), _ => unsigned)).OfType<RowsEvent>().ToList();

        var insert = events.First(e => e.Kind == RowsEventKind.Write);
        Assert.Null(insert.Table.Columns[0].Name);
        AssertRow(MaxValues, insert.Rows[0].After!);
        AssertRow(MinValues, insert.Rows[1].After!);
        var update = Assert.Single(events, e => e.Kind == RowsEventKind.Update).Rows.Single();
        Assert.Equal([0], Present(update.Before!));
        Assert.Equal(1L, update.Before![0]);
        Assert.Equal([1, 23], Present(update.After!));
        Assert.Equal(5L, update.After![1]);
        Assert.True(update.After.IsNull(23));
        Assert.False(update.After.IsNull(2));
        var delete = Assert.Single(events, e => e.Kind == RowsEventKind.Delete).Rows.Single();
        Assert.Equal([0], Present(delete.Before!));
        Assert.Equal(2L, delete.Before![0]);
    }

    internal static async Task<IReadOnlyList<BinlogRow>> InsertAndReadAsync(MariaDbServer server, string table)
    {
        var start = await Live.GtidPositionAsync(server);
        await Live.ExecuteAsync(server, "shop", $"CREATE TABLE `{table}` ({Columns})", "SET time_zone = '+00:00'",
            $"INSERT INTO `{table}` VALUES {MaxRow}, {MinRow}, {NullRow}",
            "SET sql_mode = ''", $"INSERT INTO `{table}` VALUES {ZeroRow}");
        var events = await Live.ReadToEndAsync(server, BinlogStart.AtMariaDbGtid(start));
        return events.OfType<RowsEvent>().SelectMany(e => e.Rows).ToList();
    }

    private static int[] Present(BinlogRowImage image) => Enumerable.Range(0, image.Count).Where(image.IsPresent).ToArray();

    internal static void AssertRow(Dictionary<string, object?> expected, BinlogRowImage actual)
    {
        Assert.Equal(Names.Length, actual.Count);
        var mismatches = Names.Select((name, i) => (name, want: Canonical.Of(expected[name]), got: Canonical.Of(actual[i])))
            .Where(x => x.want != x.got).Select(x => $"{x.name}: expected {x.want}, got {x.got}").ToList();
        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
    }
}
