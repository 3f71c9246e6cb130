using Molt.MySqlBinlog.Events;
using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Tests;

/// <summary>
/// GTID_TAGGED_LOG_EVENT (type 42, MySQL 8.3+) and the serialization library's archive it is written in, built byte by
/// byte from MySQL's documentation (libs/mysql/serialization/readme.md and Gtid_event's field list); from MySQL
/// documentation, not run against MySQL: no MySQL server is served here.
/// </summary>
[Trait("Source", "documentation")]
public sealed class TaggedGtidLayoutTests
{
    private const string Uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    // The uuid 3e11fa47-71ca-11e1-9e33-c80aa9429562 as 16 serialized one-byte integers (those of 128 and more take 2 bytes).
    private static readonly byte[] UuidField =
        [0x02, 0x7C, 0x22, 0xE9, 0x03, 0x8E, 0xE2, 0x29, 0x03, 0x22, 0x85, 0x03, 0x79, 0x02, 0x66, 0x21, 0x03, 0x14, 0xA5, 0x02, 0x84, 0x55, 0x02, 0xC4];

    private static readonly byte[] FlagsField = [0x00, 0x02]; // field 0: gtid_flags 1
    private static readonly byte[] GnoField = [0x04, 0x5C]; // field 2: gno 23 (signed: 23 << 1, then << 1 for the length bit)
    private static readonly byte[] TagField = [0x06, 0x0A, .. "mytag"u8]; // field 3: a 5-byte string
    private static readonly byte[] EmptyTagField = [0x06, 0x00];
    private static readonly byte[] LastCommittedField = [0x08, 0x14]; // field 4: 5
    private static readonly byte[] SequenceField = [0x0A, 0x18]; // field 5: 6
    private static readonly byte[] CommitTimestampField = [0x0C, 0x7F, 0x40, 0x22, 0x20, 0x18, 0x24, 0x0A, 0x06]; // field 6: 1700000000123456 (8 bytes)
    private static readonly byte[] TransactionLengthField = [0x10, 0xB1, 0x04]; // field 8: 300 (2 bytes)
    private static readonly byte[] ServerVersionField = [0x12, 0x83, 0xD0, 0x09]; // field 9: 80400 (3 bytes)

    [Theory]
    [InlineData("FBFF07", 65535UL)] // readme: "00000111 11111111 11111011"
    [InlineData("02", 1UL)]
    [InlineData("FFFFFFFFFFFFFFFFFF", ulong.MaxValue)]
    public void Unsigned_variable_length_integers_decode_as_the_serialization_readme_shows(string hex, ulong expected)
    {
        var reader = new SerializedFieldReader(Convert.FromHexString(hex));

        Assert.Equal(expected, reader.ReadUnsigned());
        Assert.Equal(hex.Length / 2, reader.Position);
    }

    [Theory]
    [InlineData("F3FF0F", 65535L)] // readme: "00001111 11111111 11110011"
    [InlineData("EBFF0F", -65535L)] // readme: "00001111 11111111 11101011"
    [InlineData("FBFF0F", -65536L)] // readme: "00001111 11111111 11111011"
    [InlineData("FFFFFFFFFFFFFFFFFF", long.MinValue)]
    public void Signed_variable_length_integers_keep_the_sign_in_the_lowest_bit_as_the_serialization_readme_shows(string hex, long expected)
    {
        var reader = new SerializedFieldReader(Convert.FromHexString(hex));

        Assert.Equal(expected, reader.ReadSigned());
    }

    [Fact]
    public void A_tagged_gtid_event_gives_uuid_tag_and_transaction_number_and_the_logical_clock()
    {
        var body = Message(10, FlagsField, UuidField, GnoField, TagField, LastCommittedField, SequenceField, CommitTimestampField,
            TransactionLengthField, ServerVersionField);

        var gtid = Assert.IsType<MySqlGtidEvent>(new EventDecoder(ChecksumAlgorithm.Crc32).Decode(EventBytes.Build(42, body, crc32: true)).Single());

        Assert.Equal($"{Uuid}:mytag:23", gtid.Gtid);
        Assert.Equal("mytag", gtid.Tag);
        Assert.Equal(23, gtid.TransactionNumber);
        Assert.Equal(5, gtid.LastCommitted);
        Assert.Equal(6, gtid.SequenceNumber);
        Assert.False(gtid.IsAnonymous);
    }

    [Fact]
    public void A_tagged_gtid_event_with_an_empty_tag_names_an_untagged_gtid()
    {
        var body = Message(10, FlagsField, UuidField, GnoField, EmptyTagField, LastCommittedField, SequenceField, CommitTimestampField,
            TransactionLengthField, ServerVersionField);

        var gtid = Assert.IsType<MySqlGtidEvent>(new EventDecoder(ChecksumAlgorithm.None).Decode(EventBytes.Build(42, body, crc32: false)).Single());

        Assert.Null(gtid.Tag);
        Assert.Equal($"{Uuid}:23", gtid.Gtid);
    }

    [Fact]
    public void Optional_fields_a_newer_server_adds_after_the_known_ones_are_skipped_when_marked_ignorable()
    {
        byte[] originalCommitTimestamp = [0x0E, 0x02]; // field 7: present when it differs from the immediate one
        byte[] commitGroupTicket = [0x16, 0x0E]; // field 11: 7
        byte[] unknownField = [0x18, 0xFB, 0xFF, 0x07]; // field 12: not known to this reader
        var body = Message(10, FlagsField, UuidField, GnoField, TagField, LastCommittedField, SequenceField, CommitTimestampField,
            originalCommitTimestamp, TransactionLengthField, ServerVersionField, commitGroupTicket, unknownField);

        var gtid = Assert.IsType<MySqlGtidEvent>(new EventDecoder(ChecksumAlgorithm.None).Decode(EventBytes.Build(42, body, crc32: false)).Single());

        Assert.Equal($"{Uuid}:mytag:23", gtid.Gtid);
    }

    [Fact]
    public void A_tagged_gtid_event_with_required_fields_this_client_does_not_know_stops_the_stream()
    {
        byte[] unknownField = [0x18, 0x02]; // field 12, and the message says a reader must know fields up to it
        var body = Message(13, FlagsField, UuidField, GnoField, TagField, LastCommittedField, SequenceField, unknownField);

        var error = Assert.Throws<BinlogException>(() => new EventDecoder(ChecksumAlgorithm.None).Decode(EventBytes.Build(42, body, crc32: false)));

        Assert.Equal(BinlogErrorIds.UnsupportedEvent, error.ErrorId);
        Assert.Contains("GTID_TAGGED", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tagged_gtid_event_without_its_transaction_number_or_cut_short_is_a_protocol_violation()
    {
        var noGno = Message(10, FlagsField, UuidField, TagField, LastCommittedField);
        var whole = Message(10, FlagsField, UuidField, GnoField, TagField);

        Assert.Equal(BinlogErrorIds.ProtocolViolation,
            Assert.Throws<BinlogException>(() => new EventDecoder(ChecksumAlgorithm.None).Decode(EventBytes.Build(42, noGno, crc32: false))).ErrorId);
        Assert.Equal(BinlogErrorIds.ProtocolViolation,
            Assert.Throws<BinlogException>(() => new EventDecoder(ChecksumAlgorithm.None).Decode(EventBytes.Build(42, whole[..^3], crc32: false))).ErrorId);
        Assert.Equal(BinlogErrorIds.ProtocolViolation,
            Assert.Throws<BinlogException>(() => new EventDecoder(ChecksumAlgorithm.None).Decode(EventBytes.Build(42, [0x04, 0x10, 0x00], crc32: false))).ErrorId);
    }

    [Fact]
    public void A_decoded_tagged_gtid_joins_the_executed_set_under_its_tag_at_the_xid()
    {
        var body = Message(10, FlagsField, UuidField, GnoField, TagField, LastCommittedField, SequenceField, CommitTimestampField,
            TransactionLengthField, ServerVersionField);
        var decoder = new EventDecoder(ChecksumAlgorithm.None);
        var tracker = new Replication.TransactionTracker(BinlogStart.AtMySqlGtidSet($"{Uuid}:1-5,{Uuid}:mytag:1-22"), mariaDb: false);

        tracker.Observe(decoder.Decode(EventBytes.Build(42, body, crc32: false, 200)).Single());
        var inside = tracker.Observe(decoder.Decode(EventBytes.Build(2, EventBytes.Query("shop", "BEGIN"), crc32: false, 300)).Single());
        var committed = tracker.Observe(decoder.Decode(EventBytes.Build(16, EventBytes.Xid(9), crc32: false, 400)).Single());

        Assert.Equal($"{Uuid}:mytag:23", inside.CurrentTransactionGtid);
        Assert.Equal($"{Uuid}:1-5,{Uuid}:mytag:1-23", committed.GtidState);
    }

    /// <summary>
    /// The message header of the readme: format version 1, the message's whole size (these header bytes included; every
    /// message here is under 64 bytes, so one byte), the last non-ignorable field id + 1, then the fields.
    /// </summary>
    private static byte[] Message(byte lastNonIgnorable, params byte[][] fields)
    {
        var content = fields.SelectMany(f => f).ToArray();
        var size = 3 + content.Length;
        Assert.True(size < 128);
        return [0x02, (byte)(size << 1), (byte)(lastNonIgnorable << 1), .. content];
    }
}
