using System.Globalization;
using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Events;

/// <summary>A MariaDB GTID domain-server-sequence.</summary>
public readonly record struct MariaDbGtid(uint DomainId, uint ServerId, ulong SequenceNumber)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{DomainId}-{ServerId}-{SequenceNumber}");

    public static MariaDbGtid Parse(string text)
    {
        var parts = text.Trim().Split('-');
        if (parts.Length != 3 || !uint.TryParse(parts[0], CultureInfo.InvariantCulture, out var domain) ||
            !uint.TryParse(parts[1], CultureInfo.InvariantCulture, out var server) || !ulong.TryParse(parts[2], CultureInfo.InvariantCulture, out var sequence))
        {
            throw new BinlogException(BinlogErrorIds.InvalidGtid, $"'{text}' is not a MariaDB GTID (domain-server-sequence).");
        }

        return new MariaDbGtid(domain, server, sequence);
    }
}

/// <summary>MariaDB GTID: starts a transaction (or a standalone DDL / non-transactional statement).</summary>
public sealed record MariaDbGtidEvent(EventHeader Header, MariaDbGtid Gtid, byte Flags, ulong? CommitId) : BinlogEvent(Header)
{
    /// <summary>FL_STANDALONE: no BEGIN/COMMIT follows; the one event after it is the whole transaction.</summary>
    public bool IsStandalone => (Flags & 0x01) != 0;

    /// <summary>FL_DDL.</summary>
    public bool IsDdl => (Flags & 0x20) != 0;

    internal static MariaDbGtidEvent Parse(EventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new PayloadReader(body);
        var sequence = reader.ReadUInt64();
        var domain = reader.ReadUInt32();
        var flags = reader.ReadByte();
        ulong? commitId = (flags & 0x02) != 0 ? reader.ReadUInt64() : null;
        return new MariaDbGtidEvent(header, new MariaDbGtid(domain, header.ServerId, sequence), flags, commitId);
    }
}

/// <summary>MariaDB GTID_LIST: the binlog state (last GTID per domain and server) at the start of a file.</summary>
public sealed record MariaDbGtidListEvent(EventHeader Header, IReadOnlyList<MariaDbGtid> Gtids) : BinlogEvent(Header)
{
    internal static MariaDbGtidListEvent Parse(EventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new PayloadReader(body);
        var count = reader.ReadUInt32() & 0x0FFFFFFF;
        var gtids = new List<MariaDbGtid>((int)count);
        for (var i = 0; i < count; i++)
        {
            var domain = reader.ReadUInt32();
            var server = reader.ReadUInt32();
            gtids.Add(new MariaDbGtid(domain, server, reader.ReadUInt64()));
        }

        return new MariaDbGtidListEvent(header, gtids);
    }
}

/// <summary>MySQL GTID (or ANONYMOUS_GTID): starts a transaction; <see cref="Gtid"/> is uuid[:tag]:gno.</summary>
public sealed record MySqlGtidEvent(EventHeader Header, string SourceUuid, string? Tag, long TransactionNumber, long? LastCommitted, long? SequenceNumber) : BinlogEvent(Header)
{
    private const ulong SerializationFormatVersion = 1;
    private const int MaximumTagLength = 32;

    public string Gtid => Tag is null
        ? string.Create(CultureInfo.InvariantCulture, $"{SourceUuid}:{TransactionNumber}")
        : string.Create(CultureInfo.InvariantCulture, $"{SourceUuid}:{Tag}:{TransactionNumber}");

    public bool IsAnonymous => Header.Type == BinlogEventType.AnonymousGtid;

    internal static MySqlGtidEvent Parse(EventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new PayloadReader(body);
        reader.Skip(1);
        var uuid = FormatUuid(reader.ReadBytes(16));
        var gno = (long)reader.ReadUInt64();
        long? lastCommitted = null, sequence = null;
        // Logical clock timestamps (type code 2) since 5.7.
        if (reader.Remaining >= 17 && reader.ReadByte() == 2)
        {
            lastCommitted = (long)reader.ReadUInt64();
            sequence = (long)reader.ReadUInt64();
        }

        return new MySqlGtidEvent(header, uuid, null, gno, lastCommitted, sequence);
    }

    /// <summary>
    /// GTID_TAGGED_LOG_EVENT (MySQL 8.3+): one serialized message (format version, its size, the last field a reader
    /// must know) whose numbered fields are flags (0), the uuid as 16 serialized bytes (1), gno (2), tag (3), last
    /// committed (4), sequence number (5) and commit timestamps, transaction length, server versions and the commit
    /// group ticket (6-11), each absent field taking its default.
    /// </summary>
    internal static MySqlGtidEvent ParseTagged(EventHeader header, ReadOnlySpan<byte> body)
    {
        const int KnownFields = 12;
        var reader = new SerializedFieldReader(body);
        if (reader.ReadUnsigned() is var version && version != SerializationFormatVersion)
        {
            throw Malformed(header, $"its serialization format is version {version}, not {SerializationFormatVersion}");
        }

        var size = reader.ReadUnsigned();
        if (size > (ulong)body.Length)
        {
            throw Malformed(header, $"it says it has {size} bytes, {body.Length} arrived");
        }

        var end = (int)size;
        if (reader.ReadUnsigned() > KnownFields)
        {
            throw new BinlogException(BinlogErrorIds.UnsupportedEvent,
                $"The GTID_TAGGED event at position {header.LogPosition} holds fields a newer MySQL added and marked as required, which this client does not know; the stream stops rather than misread the transaction.");
        }

        string? uuid = null, tag = null;
        long? gno = null, lastCommitted = null, sequence = null;
        for (var field = 0UL; field < KnownFields; field++)
        {
            if (!reader.NextFieldIs(field, end))
            {
                continue;
            }

            switch (field)
            {
                case 1:
                    uuid = ReadUuid(ref reader, header);
                    break;
                case 2:
                    gno = reader.ReadSigned();
                    break;
                case 3:
                    tag = System.Text.Encoding.ASCII.GetString(reader.ReadString(MaximumTagLength)) is { Length: > 0 } text ? text : null;
                    break;
                case 4:
                    lastCommitted = reader.ReadSigned();
                    break;
                case 5:
                    sequence = reader.ReadSigned();
                    break;
                default:
                    // Flags, timestamps, length, versions, ticket: unsigned, not needed to replicate.
                    reader.ReadUnsigned();
                    break;
            }
        }

        if (reader.Position > end || uuid is null || gno is not { } number)
        {
            throw Malformed(header, reader.Position > end ? "its fields run past its size" : "it has no uuid or no transaction number");
        }

        return new MySqlGtidEvent(header, uuid, tag, number, lastCommitted, sequence);
    }

    /// <summary>The uuid is a fixed array of 16 one-byte integers, each serialized as a variable-length integer.</summary>
    private static string ReadUuid(ref SerializedFieldReader reader, EventHeader header)
    {
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < bytes.Length; i++)
        {
            var value = reader.ReadUnsigned();
            bytes[i] = value <= byte.MaxValue ? (byte)value : throw Malformed(header, $"uuid byte {i} is {value}");
        }

        return FormatUuid(bytes);
    }

    private static BinlogException Malformed(EventHeader header, string why) => new(BinlogErrorIds.ProtocolViolation,
        $"The GTID_TAGGED event at position {header.LogPosition} cannot be read: {why}.");

    internal static string FormatUuid(ReadOnlySpan<byte> bytes)
    {
        var hex = Convert.ToHexString(bytes).ToLowerInvariant();
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }
}
