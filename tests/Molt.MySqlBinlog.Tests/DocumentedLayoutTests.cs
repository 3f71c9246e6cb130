using Molt.MySqlBinlog.Events;
using Molt.MySqlBinlog.Protocol;
using Molt.MySqlBinlog.Replication;
using Molt.MySqlBinlog.Values;
using ZstdSharp;

namespace Molt.MySqlBinlog.Tests;

/// <summary>MySQL-only layouts no MariaDB server writes, built byte by byte from the protocol documentation.</summary>
[Trait("Source", "documentation")]
public sealed class DocumentedLayoutTests
{
    private const string Uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private static readonly byte[] UuidBytes = Convert.FromHexString("3E11FA4771CA11E19E33C80AA9429562");

    [Theory]
    [InlineData("810DFB38D204D2", "1234567890.1234")]
    [InlineData("7EF204C72DFB2D", "-1234567890.1234")]
    public void The_decimal_example_of_the_documentation_decodes_exactly(string hex, string expected)
    {
        var reader = new PayloadReader(Convert.FromHexString(hex));

        Assert.Equal(expected, DecimalDecoder.Decode(ref reader, 14, 4));
        Assert.True(reader.AtEnd);
    }

    [Fact]
    public void An_untagged_gtid_set_encodes_as_sid_count_uuid_and_exclusive_intervals_from_the_documentation()
    {
        var set = MySqlGtidSet.Parse($"{Uuid.ToUpperInvariant()}:1-5:7");

        byte[] expected =
        [
            1, 0, 0, 0, 0, 0, 0, 0, .. UuidBytes, 2, 0, 0, 0, 0, 0, 0, 0,
            1, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0,
            7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0,
        ];
        Assert.Equal(expected, set.Encode());
        Assert.Equal($"{Uuid}:1-5:7", set.ToString());
    }

    [Fact]
    public void A_tagged_gtid_set_of_mysql_8_3_encodes_the_tagged_format_marker_and_each_tag_from_the_documentation()
    {
        var set = MySqlGtidSet.Parse($"{Uuid}:1-2,{Uuid}:mytag:3");

        byte[] expected =
        [
            1, 2, 0, 0, 0, 0, 0, 1,
            .. UuidBytes, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,
            .. UuidBytes, 10, .. "mytag"u8, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0,
        ];
        Assert.Equal(expected, set.Encode());
        Assert.Equal($"{Uuid}:1-2,{Uuid}:mytag:3", set.ToString());
    }

    [Fact]
    public void Transactions_added_to_a_gtid_set_merge_into_intervals()
    {
        var set = MySqlGtidSet.Parse($"{Uuid}:1-3");
        set.Add(Uuid, null, 4);
        set.Add(Uuid, null, 6);
        set.Add(Uuid, null, 5);

        Assert.Equal($"{Uuid}:1-6", set.ToString());
        Assert.True(set.Contains(Uuid, null, 6));
        Assert.False(set.Contains(Uuid, null, 7));
        Assert.Throws<BinlogException>(() => MySqlGtidSet.Parse("not-a-uuid:1-5"));
    }

    [Fact]
    public void A_small_binary_json_object_with_an_inlined_int_an_array_and_a_string_becomes_json_text_from_the_documentation()
    {
        byte[] document =
        [
            0x00, // small object
            3, 0, 40, 0, // 3 members, 40 bytes
            25, 0, 1, 0, 26, 0, 1, 0, 27, 0, 1, 0, // key entries: offset, length
            0x05, 1, 0, 0x02, 28, 0, 0x0C, 38, 0, // value entries: int16 inlined, array at 28, string at 38
            (byte)'a', (byte)'b', (byte)'c',
            2, 0, 10, 0, 0x04, 1, 0, 0x04, 0, 0, // the array: true, null
            1, (byte)'x',
        ];

        Assert.Equal("{\"a\": 1, \"b\": [true, null], \"c\": \"x\"}", JsonBinaryDecoder.ToJson(document));
    }

    [Fact]
    public void Binary_json_doubles_int32_escaped_strings_and_uint64_become_json_text_from_the_documentation()
    {
        byte[] document =
        [
            0x02, 4, 0, 40, 0, // small array, 4 elements, 40 bytes
            0x0B, 16, 0, 0x07, 24, 0, 0x0C, 28, 0, 0x0A, 32, 0,
            .. BitConverter.GetBytes(3.5), .. BitConverter.GetBytes(-70000),
            3, (byte)'q', (byte)'"', (byte)'\n',
            .. BitConverter.GetBytes(ulong.MaxValue),
        ];

        Assert.Equal("[3.5, -70000, \"q\\\"\\n\", 18446744073709551615]", JsonBinaryDecoder.ToJson(document));
        Assert.Equal("null", JsonBinaryDecoder.ToJson([]));
    }

    [Fact]
    public void A_zstd_transaction_payload_yields_the_events_inside_it_from_the_documentation()
    {
        byte[] inner = [.. EventBytes.Build(2, EventBytes.Query("", "BEGIN"), crc32: false, 0), .. EventBytes.Build(16, EventBytes.Xid(42), crc32: false, 0)];
        using var compressor = new Compressor();
        var payload = compressor.Wrap(inner).ToArray();
        byte[] body =
        [
            2, 1, 0, // compression type: zstd
            3, 1, (byte)inner.Length, // uncompressed size
            1, 1, (byte)payload.Length, // payload size
            0, // end of header
            .. payload,
        ];
        Assert.True(inner.Length < 251 && payload.Length < 251);

        var events = new EventDecoder(ChecksumAlgorithm.Crc32).Decode(EventBytes.Build(40, body, crc32: true));

        Assert.True(Assert.IsType<QueryEvent>(events[0]).IsBegin);
        Assert.Equal(42UL, Assert.IsType<XidEvent>(events[1]).Xid);
        Assert.Equal(2, events.Count);
    }

    [Fact]
    public void A_heartbeat_v2_gives_the_file_and_a_position_past_4_GB_from_the_documentation()
    {
        byte[] body = [1, 13, .. "binlog.000042"u8, 2, 9, 0xFE, 0, 0, 0, 0, 1, 0, 0, 0, 0];

        var heartbeat = Assert.IsType<HeartbeatEvent>(new EventDecoder(ChecksumAlgorithm.Crc32).Decode(EventBytes.Build(41, body, crc32: true, 0)).Single());

        Assert.Equal("binlog.000042", heartbeat.LogFile);
        Assert.Equal(1UL << 32, heartbeat.LogPosition);
    }

    [Fact]
    public void A_mysql_gtid_event_gives_uuid_transaction_number_and_logical_clock_from_the_documentation()
    {
        byte[] body = [1, .. UuidBytes, 23, 0, 0, 0, 0, 0, 0, 0, 2, 5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0];

        var gtid = Assert.IsType<MySqlGtidEvent>(new EventDecoder(ChecksumAlgorithm.None).Decode(EventBytes.Build(33, body, crc32: false)).Single());

        Assert.Equal($"{Uuid}:23", gtid.Gtid);
        Assert.Equal(5, gtid.LastCommitted);
        Assert.Equal(6, gtid.SequenceNumber);
    }
}

/// <summary>Event integrity checks that hold for both servers.</summary>
public sealed class EventIntegrityTests
{
    [Fact]
    public void An_event_whose_crc32_does_not_match_stops_the_stream_with_a_checksum_error()
    {
        var raw = EventBytes.Build(16, EventBytes.Xid(7), crc32: true);
        Assert.Equal(7UL, Assert.IsType<XidEvent>(new EventDecoder(ChecksumAlgorithm.Crc32).Decode(raw).Single()).Xid);

        raw[20] ^= 0x01;
        var error = Assert.Throws<BinlogException>(() => new EventDecoder(ChecksumAlgorithm.Crc32).Decode(raw));

        Assert.Equal(BinlogErrorIds.ChecksumMismatch, error.ErrorId);
    }

    [Theory]
    [InlineData(20)]
    [InlineData(39)]
    [InlineData(120)]
    public void An_event_type_that_may_carry_rows_and_is_not_understood_stops_the_stream_naming_the_type(byte type)
    {
        var error = Assert.Throws<BinlogException>(() => new EventDecoder(ChecksumAlgorithm.None).Decode(EventBytes.Build(type, [1, 2, 3], crc32: false)));

        Assert.Equal(BinlogErrorIds.UnsupportedEvent, error.ErrorId);
        Assert.Contains(((BinlogEventType)type).ToString(), error.Message);
    }

    [Fact]
    public void An_unknown_event_flagged_ignorable_is_passed_over()
    {
        var raw = EventBytes.Build(120, [1, 2, 3], crc32: false);
        raw[17] = 0x80;

        Assert.IsType<OtherEvent>(new EventDecoder(ChecksumAlgorithm.None).Decode(raw).Single());
    }

    [Fact]
    public void A_row_event_for_a_table_id_without_a_table_map_is_refused()
    {
        byte[] body = [9, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 5, 0, 0, 0];

        var error = Assert.Throws<BinlogException>(() => new EventDecoder(ChecksumAlgorithm.None).Decode(EventBytes.Build(23, body, crc32: false)));

        Assert.Equal(BinlogErrorIds.UnknownTable, error.ErrorId);
    }
}
