namespace Molt.MySqlBinlog;

/// <summary>
/// Where the stream is after an event: the binlog file and the position of the next event, and the GTID state of the
/// committed transactions (MariaDB "domain-server-seq,..." or a MySQL GTID set) to resume from.
/// </summary>
public sealed record BinlogStreamPosition(string File, ulong Position, string GtidState, string? CurrentTransactionGtid)
{
    public override string ToString() => $"{File}:{Position} gtid '{GtidState}'";
}
