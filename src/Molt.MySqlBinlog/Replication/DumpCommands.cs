using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Replication;

/// <summary>The payloads of COM_REGISTER_SLAVE, COM_BINLOG_DUMP and COM_BINLOG_DUMP_GTID.</summary>
internal static class DumpCommands
{
    private const byte ComRegisterSlave = 0x15;
    private const byte ComBinlogDump = 0x12;
    private const byte ComBinlogDumpGtid = 0x1E;

    /// <summary>BINLOG_DUMP_NON_BLOCK: the server ends the stream with EOF at the end of the binlog instead of waiting.</summary>
    public const ushort NonBlock = 0x01;

    /// <summary>MariaDB's BINLOG_SEND_ANNOTATE_ROWS_EVENT.</summary>
    public const ushort SendAnnotateRows = 0x02;

    /// <summary>MySQL's BINLOG_THROUGH_GTID: the command carries a GTID set.</summary>
    private const ushort ThroughGtid = 0x04;

    public static ReadOnlyMemory<byte> RegisterReplica(uint serverId, string hostName, string user, int port) => new PayloadWriter()
        .WriteByte(ComRegisterSlave)
        .WriteUInt32(serverId)
        .WriteShortString(hostName)
        .WriteShortString(user)
        .WriteShortString("")
        .WriteUInt16((ushort)port)
        .WriteUInt32(0)
        .WriteUInt32(0)
        .Written;

    public static ReadOnlyMemory<byte> BinlogDump(uint serverId, string file, ulong position, ushort flags) => new PayloadWriter()
        .WriteByte(ComBinlogDump)
        .WriteUInt32(checked((uint)position))
        .WriteUInt16(flags)
        .WriteUInt32(serverId)
        .WriteString(file)
        .Written;

    public static ReadOnlyMemory<byte> BinlogDumpGtid(uint serverId, MySqlGtidSet gtids, ushort flags)
    {
        var encoded = gtids.Encode();
        return new PayloadWriter()
            .WriteByte(ComBinlogDumpGtid)
            .WriteUInt16((ushort)(flags | ThroughGtid))
            .WriteUInt32(serverId)
            .WriteUInt32(0)
            .WriteUInt64(4)
            .WriteUInt32((uint)encoded.Length)
            .WriteBytes(encoded)
            .Written;
    }
}
