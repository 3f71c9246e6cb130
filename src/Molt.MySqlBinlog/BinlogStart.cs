namespace Molt.MySqlBinlog;

/// <summary>Where a stream starts: a MariaDB GTID position, a MySQL GTID set, or a binlog file and position.</summary>
public sealed record BinlogStart
{
    private BinlogStart()
    {
    }

    /// <summary>MariaDB: the last GTID applied per domain ("0-1-100,1-2-5"); the stream starts after it. Empty = from the oldest binlog.</summary>
    public string? MariaDbGtidPosition { get; private init; }

    /// <summary>MySQL: the executed GTID set; the stream sends every transaction not in it.</summary>
    public string? MySqlGtidSet { get; private init; }

    public string? File { get; private init; }

    public ulong Position { get; private init; }

    public static BinlogStart AtMariaDbGtid(string gtidPosition) => new() { MariaDbGtidPosition = gtidPosition };

    public static BinlogStart AtMySqlGtidSet(string gtidSet) => new() { MySqlGtidSet = gtidSet };

    public static BinlogStart AtFile(string file, ulong position = 4) => new() { File = file, Position = position };

    public override string ToString() => MariaDbGtidPosition is not null ? $"MariaDB GTID position '{MariaDbGtidPosition}'"
        : MySqlGtidSet is not null ? $"MySQL GTID set '{MySqlGtidSet}'"
        : $"binlog file '{File}' position {Position}";
}
