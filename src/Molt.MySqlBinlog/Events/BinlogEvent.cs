using System.Text;
using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Events;

/// <summary>A decoded binlog event; <see cref="Position"/> is the stream's position after it, set by <see cref="BinlogClient"/>.</summary>
public abstract record BinlogEvent(EventHeader Header)
{
    public BinlogStreamPosition? Position { get; internal set; }
}

/// <summary>ROTATE: the stream continues in <see cref="NextFile"/> at <see cref="NextPosition"/>.</summary>
public sealed record RotateEvent(EventHeader Header, string NextFile, ulong NextPosition) : BinlogEvent(Header)
{
    internal static RotateEvent Parse(EventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new PayloadReader(body);
        var position = reader.ReadUInt64();
        return new RotateEvent(header, Encoding.UTF8.GetString(reader.ReadRest()), position);
    }
}

/// <summary>XID: the commit of a transactional (InnoDB) transaction.</summary>
public sealed record XidEvent(EventHeader Header, ulong Xid) : BinlogEvent(Header)
{
    internal static XidEvent Parse(EventHeader header, ReadOnlySpan<byte> body) => new(header, new PayloadReader(body).ReadUInt64());
}

/// <summary>HEARTBEAT or HEARTBEAT_V2: sent only while the stream is idle; the source has sent everything up to <see cref="LogPosition"/> of <see cref="LogFile"/>.</summary>
public sealed record HeartbeatEvent(EventHeader Header, string LogFile, ulong LogPosition) : BinlogEvent(Header)
{
    private const int EndMark = 0;
    private const int FileNameField = 1;
    private const int PositionField = 2;

    internal static HeartbeatEvent Parse(EventHeader header, ReadOnlySpan<byte> body) => new(header, Encoding.UTF8.GetString(body), header.LogPosition);

    /// <summary>MySQL 8.0.26+: (type, length, value) fields in packed integers, so positions past 4 GB fit.</summary>
    internal static HeartbeatEvent ParseVersion2(EventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new PayloadReader(body);
        var file = "";
        ulong position = 0;
        while (!reader.AtEnd)
        {
            var type = reader.ReadLengthEncoded();
            if (type == EndMark)
            {
                break;
            }

            var value = reader.ReadBytes(reader.ReadLengthEncodedInt32());
            if (type == FileNameField)
            {
                file = Encoding.UTF8.GetString(value);
            }
            else if (type == PositionField)
            {
                position = new PayloadReader(value).ReadLengthEncoded();
            }
        }

        return new HeartbeatEvent(header, file, position);
    }
}

/// <summary>MariaDB ANNOTATE_ROWS: the statement text of the row events that follow.</summary>
public sealed record AnnotateRowsEvent(EventHeader Header, string Query) : BinlogEvent(Header)
{
    internal static AnnotateRowsEvent Parse(EventHeader header, ReadOnlySpan<byte> body) => new(header, Encoding.UTF8.GetString(body));
}

/// <summary>
/// An event this client reads past: known types that carry no row data (STOP, INTVAR, RAND, USER_VAR, BINLOG_CHECKPOINT,
/// PREVIOUS_GTIDS, ROWS_QUERY, ...) and unknown types the server flagged as ignorable.
/// </summary>
public sealed record OtherEvent(EventHeader Header) : BinlogEvent(Header);

/// <summary>
/// QUERY: BEGIN, COMMIT, ROLLBACK, DDL, or a statement of statement-based logging, with the default schema it ran in.
/// </summary>
public sealed record QueryEvent(EventHeader Header, uint ThreadId, uint ExecutionSeconds, ushort ErrorCode, string Schema, string Query) : BinlogEvent(Header)
{
    public bool IsBegin => Query.Equals("BEGIN", StringComparison.OrdinalIgnoreCase);

    public bool IsCommit => Query.Equals("COMMIT", StringComparison.OrdinalIgnoreCase);

    public bool IsRollback => Query.Equals("ROLLBACK", StringComparison.OrdinalIgnoreCase);

    internal static QueryEvent Parse(EventHeader header, ReadOnlySpan<byte> body, int postHeaderLength)
    {
        var reader = new PayloadReader(body);
        var threadId = reader.ReadUInt32();
        var seconds = reader.ReadUInt32();
        var schemaLength = reader.ReadByte();
        var error = reader.ReadUInt16();
        var statusLength = postHeaderLength >= 13 ? reader.ReadUInt16() : 0;
        reader.Skip(postHeaderLength - Math.Min(postHeaderLength, 13));
        reader.Skip(statusLength);
        var schema = reader.ReadFixedString(schemaLength);
        reader.Skip(1);
        return new QueryEvent(header, threadId, seconds, error, schema, Encoding.UTF8.GetString(reader.ReadRest()));
    }
}
