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

    internal static string FormatUuid(ReadOnlySpan<byte> bytes)
    {
        var hex = Convert.ToHexString(bytes).ToLowerInvariant();
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }
}
