using Molt.MySqlBinlog.Events;
using Molt.MySqlBinlog.Protocol;
using Molt.MySqlBinlog.Values;

namespace Molt.MySqlBinlog.Tests;

/// <summary>MySQL 8 TABLE_MAP with FULL optional metadata and WRITE_ROWS v2 with a JSON column, built from the documentation.</summary>
[Trait("Source", "documentation")]
public sealed class MySqlRowsLayoutTests
{
    private static readonly byte[] TableMap =
    [
        42, 0, 0, 0, 0, 0, 1, 0, // table id 42, flags
        4, .. "shop"u8, 0, 3, .. "doc"u8, 0,
        3, 8, 245, 15, // BIGINT, JSON, VARCHAR
        3, 4, 0x90, 0x01, // metadata: JSON length bytes 4, VARCHAR(400) little-endian
        0b110, // nullable: j, v
        1, 1, 0x80, // SIGNEDNESS: the first numeric column is unsigned
        4, 7, 2, (byte)'i', (byte)'d', 1, (byte)'j', 1, (byte)'v', // COLUMN_NAME
        8, 1, 0, // SIMPLE_PRIMARY_KEY: column 0
        2, 1, 45, // DEFAULT_CHARSET utf8mb4_general_ci
    ];

    private static readonly byte[] Json = [0x00, 1, 0, 14, 0, 11, 0, 1, 0, 0x0C, 12, 0, (byte)'k', 1, (byte)'v'];

    private static readonly byte[] WriteRows =
    [
        42, 0, 0, 0, 0, 0, 1, 0, // table id 42, STMT_END_F
        2, 0, // extra data: only its own length
        3, 0b111,
        0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)Json.Length, 0, 0, 0, .. Json, 3, 0, (byte)'a', (byte)'b', (byte)'c',
        0b010, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    [Fact]
    public void A_write_rows_v2_event_decodes_unsigned_bigint_binary_json_and_a_long_varchar_with_names_from_full_metadata()
    {
        var decoder = new EventDecoder(ChecksumAlgorithm.Crc32);

        var table = Assert.IsType<TableMapEvent>(decoder.Decode(EventBytes.Build(19, TableMap, crc32: true)).Single());
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(EventBytes.Build(30, WriteRows, crc32: true)).Single());

        Assert.Equal(("shop", "doc", 42UL), (table.Schema, table.Table, table.TableId));
        Assert.Equal(["id", "j", "v"], table.Columns.Select(c => c.Name));
        Assert.True(table.Columns[0].IsPrimaryKey);
        Assert.Equal(45, table.Columns[2].CollationId);
        Assert.True(rows.IsStatementEnd);
        Assert.Equal(RowsEventKind.Write, rows.Kind);
        Assert.Equal([ulong.MaxValue, "{\"k\": \"v\"}", "abc"u8.ToArray()], rows.Rows[0].After!.Values);
        Assert.Equal(1UL, rows.Rows[1].After![0]);
        Assert.True(rows.Rows[1].After!.IsNull(1));
        Assert.Equal(Array.Empty<byte>(), rows.Rows[1].After![2]);
    }

    [Fact]
    public void A_table_map_logged_again_has_the_same_layout_until_a_column_differs()
    {
        var decoder = new EventDecoder(ChecksumAlgorithm.Crc32);
        var first = Assert.IsType<TableMapEvent>(decoder.Decode(EventBytes.Build(19, TableMap, crc32: true)).Single());
        var again = Assert.IsType<TableMapEvent>(decoder.Decode(EventBytes.Build(19, TableMap, crc32: true)).Single());
        byte[] wider = [.. TableMap];
        wider[Array.IndexOf(TableMap, (byte)0x90)] = 0x91;
        var widened = Assert.IsType<TableMapEvent>(decoder.Decode(EventBytes.Build(19, wider, crc32: true)).Single());
        var labelled = first with { Columns = [.. first.Columns.Take(2), first.Columns[2] with { EnumValues = ["a", "b"] }] };

        Assert.NotSame(first, again);
        Assert.True(first.HasSameLayout(again));
        Assert.False(first.HasSameLayout(widened));
        Assert.False(first.HasSameLayout(first with { TableId = 43 }));
        Assert.False(first.HasSameLayout(first with { Columns = [.. first.Columns.Take(2), first.Columns[2] with { Name = "w" }] }));
        Assert.True(labelled.HasSameLayout(labelled with { Columns = [.. first.Columns.Take(2), first.Columns[2] with { EnumValues = ["a", "b"] }] }));
        Assert.False(labelled.HasSameLayout(labelled with { Columns = [.. first.Columns.Take(2), first.Columns[2] with { EnumValues = ["a", "c"] }] }));
        Assert.False(labelled.HasSameLayout(first));
    }

    [Theory]
    [InlineData(ColumnType.Date, (ushort)0, "9F8F0F", "MySqlDateTime:1991-12-31 00:00:00")]
    [InlineData(ColumnType.DateTime, (ushort)0, "7FC5AA8B68120000", "MySqlDateTime:2024-02-29 12:34:55")]
    [InlineData(ColumnType.Time, (ushort)0, "33FBFF", "MySqlTime:-00:12:29")]
    [InlineData(ColumnType.Timestamp, (ushort)0, "FFFFFF7F", "MySqlTimestamp:2038-01-19 03:14:07.000000Z")]
    [InlineData(ColumnType.Year, (ushort)0, "00", "Int64:0")]
    [InlineData(ColumnType.Bit, (ushort)(2 << 8 | 1), "0201", "UInt64:513")]
    public void The_older_temporal_layouts_and_bit_decode_from_the_documentation(ColumnType type, ushort metadata, string hex, string expected)
    {
        var reader = new PayloadReader(Convert.FromHexString(hex));

        var value = ColumnDecoder.Decode(ref reader, new ColumnInfo { Index = 0, Type = type, Metadata = metadata, Nullable = false });

        Assert.Equal(expected, Canonical.Of(value));
        Assert.True(reader.AtEnd);
    }
}
