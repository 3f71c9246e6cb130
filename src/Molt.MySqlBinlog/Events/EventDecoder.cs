using Molt.MySqlBinlog.Values;

namespace Molt.MySqlBinlog.Events;

/// <summary>
/// Turns raw events of one stream into <see cref="BinlogEvent"/>s: checks every checksum, follows FORMAT_DESCRIPTION,
/// keeps the table maps for the row events, unwraps compressed events, and refuses what it cannot read safely.
/// </summary>
internal sealed class EventDecoder
{
    private readonly Dictionary<ulong, TableMapEvent> tables = [];
    private readonly Func<TableMapEvent, IReadOnlyList<bool>?>? signedness;
    private ChecksumAlgorithm checksum;
    private FormatDescriptionEvent? format;

    /// <param name="initialChecksum">The server's binlog_checksum, which events before the first FORMAT_DESCRIPTION (the fake ROTATE) carry.</param>
    /// <param name="signedness">Unsigned flags per column for tables whose binlog has no SIGNEDNESS metadata; null leaves them signed.</param>
    public EventDecoder(ChecksumAlgorithm initialChecksum, Func<TableMapEvent, IReadOnlyList<bool>?>? signedness = null)
    {
        checksum = initialChecksum;
        this.signedness = signedness;
    }

    public IReadOnlyList<BinlogEvent> Decode(ReadOnlySpan<byte> raw)
    {
        if (raw.Length < EventHeader.Length)
        {
            throw new BinlogException(BinlogErrorIds.ProtocolViolation, $"An event of {raw.Length} bytes is shorter than its header.");
        }

        var header = EventHeader.Parse(raw);
        if (header.EventSize != raw.Length)
        {
            throw new BinlogException(BinlogErrorIds.ProtocolViolation, $"A {header.Type} event says it has {header.EventSize} bytes, {raw.Length} arrived.");
        }

        if (header.Type == BinlogEventType.FormatDescription)
        {
            var description = FormatDescriptionEvent.Parse(header, raw);
            checksum = description.Checksum;
            format = description;
        }

        if (checksum == ChecksumAlgorithm.Crc32)
        {
            ChecksumVerifier.Verify(raw, header);
        }

        var body = raw[EventHeader.Length..^(checksum == ChecksumAlgorithm.Crc32 || header.Type == BinlogEventType.FormatDescription ? ChecksumVerifier.Length : 0)];
        if (header.Type == BinlogEventType.FormatDescription)
        {
            return [format!];
        }

        if (header.Type == BinlogEventType.TransactionPayload)
        {
            return DecodePayload(TransactionPayload.Unwrap(body));
        }

        return [DecodeBody(header, header.Type, body)];
    }

    private List<BinlogEvent> DecodePayload(byte[] events)
    {
        var decoded = new List<BinlogEvent>();
        var offset = 0;
        while (offset < events.Length)
        {
            var inner = EventHeader.Parse(events.AsSpan(offset));
            if (inner.EventSize < EventHeader.Length || offset + inner.EventSize > events.Length)
            {
                throw new BinlogException(BinlogErrorIds.ProtocolViolation, $"An event inside a TRANSACTION_PAYLOAD says it has {inner.EventSize} bytes, which does not fit.");
            }

            decoded.Add(DecodeBody(inner, inner.Type, events.AsSpan(offset + EventHeader.Length, (int)inner.EventSize - EventHeader.Length)));
            offset += (int)inner.EventSize;
        }

        return decoded;
    }

    private BinlogEvent DecodeBody(EventHeader header, BinlogEventType type, ReadOnlySpan<byte> body)
    {
        switch (type)
        {
            case BinlogEventType.Rotate:
                return RotateEvent.Parse(header, body);
            case BinlogEventType.Query:
                return QueryEvent.Parse(header, body, PostHeaderLength(type, 13));
            case BinlogEventType.Xid:
                return XidEvent.Parse(header, body);
            case BinlogEventType.TableMap:
                return RememberTable(TableMapEvent.Parse(header, body, PostHeaderLength(type, 8), IsMariaDb));
            case BinlogEventType.WriteRowsV1 or BinlogEventType.UpdateRowsV1 or BinlogEventType.DeleteRowsV1
                or BinlogEventType.WriteRows or BinlogEventType.UpdateRows or BinlogEventType.DeleteRows:
                return RowsEvent.Parse(header, type, body, PostHeaderLength(type, RowsEvent.IsVersion2(type) ? 10 : 8), Table);
            case BinlogEventType.MariaDbQueryCompressed:
                return QueryEvent.Parse(header, CompressedEvents.UnwrapQuery(body, PostHeaderLength(type, 13)), PostHeaderLength(type, 13));
            case BinlogEventType.MariaDbWriteRowsCompressedV1 or BinlogEventType.MariaDbUpdateRowsCompressedV1 or BinlogEventType.MariaDbDeleteRowsCompressedV1
                or BinlogEventType.MariaDbWriteRowsCompressed or BinlogEventType.MariaDbUpdateRowsCompressed or BinlogEventType.MariaDbDeleteRowsCompressed:
            {
                var plain = CompressedEvents.PlainType(type);
                var postHeader = PostHeaderLength(type, RowsEvent.IsVersion2(plain) ? 10 : 8);
                return RowsEvent.Parse(header, plain, CompressedEvents.UnwrapRows(body, plain, postHeader), postHeader, Table);
            }

            case BinlogEventType.Heartbeat:
                return HeartbeatEvent.Parse(header, body);
            case BinlogEventType.HeartbeatV2:
                return HeartbeatEvent.ParseVersion2(header, body);
            case BinlogEventType.MariaDbGtid:
                return MariaDbGtidEvent.Parse(header, body);
            case BinlogEventType.MariaDbGtidList:
                return MariaDbGtidListEvent.Parse(header, body);
            case BinlogEventType.Gtid or BinlogEventType.AnonymousGtid:
                return MySqlGtidEvent.Parse(header, body);
            case BinlogEventType.MariaDbAnnotateRows:
                return AnnotateRowsEvent.Parse(header, body);
            case BinlogEventType.Stop or BinlogEventType.Intvar or BinlogEventType.Rand or BinlogEventType.UserVar or BinlogEventType.RowsQuery
                or BinlogEventType.PreviousGtids or BinlogEventType.MariaDbBinlogCheckpoint or BinlogEventType.TransactionContext
                or BinlogEventType.ViewChange or BinlogEventType.Ignorable or BinlogEventType.XaPrepare
                or BinlogEventType.MariaDbStartEncryption:
                return new OtherEvent(header);
            case BinlogEventType.PartialUpdateRows:
                throw new BinlogException(BinlogErrorIds.UnsupportedEvent,
                    $"The binlog holds a {BinlogEventType.PartialUpdateRows} event (type 39, partial JSON updates), which this client does not apply.",
                    "Set binlog_row_value_options='' on the source so JSON updates are logged whole.");
            case BinlogEventType.GtidTagged:
                return MySqlGtidEvent.ParseTagged(header, body);
            case BinlogEventType.Incident:
                throw new BinlogException(BinlogErrorIds.UnsupportedEvent,
                    $"The source recorded an INCIDENT event at binlog position {header.LogPosition}: changes around it may be missing from the binlog.",
                    "Reload the affected tables.");
            default:
                if (header.IsIgnorable)
                {
                    return new OtherEvent(header);
                }

                throw new BinlogException(BinlogErrorIds.UnsupportedEvent,
                    $"The binlog holds a {type} event (type {(int)type}) at position {header.LogPosition}, which this client cannot read and which may carry row changes; the stream stops rather than skip it.");
        }
    }

    private bool IsMariaDb => format?.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) == true;

    private int PostHeaderLength(BinlogEventType type, int fallback) =>
        format?.PostHeaderLength(type) is > 0 and var length ? length : fallback;

    private TableMapEvent RememberTable(TableMapEvent table)
    {
        if (!table.HasSignedness && signedness?.Invoke(table) is { } unsigned)
        {
            table = table.WithSignedness(unsigned);
        }

        tables[table.TableId] = table;
        return table;
    }

    private TableMapEvent Table(ulong tableId) => tables.TryGetValue(tableId, out var table)
        ? table
        : throw new BinlogException(BinlogErrorIds.UnknownTable, $"A row event refers to table id {tableId}, for which no TABLE_MAP event came first.");
}
