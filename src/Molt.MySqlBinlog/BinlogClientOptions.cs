using Molt.MySqlBinlog.Events;

namespace Molt.MySqlBinlog;

public sealed class BinlogClientOptions
{
    public required BinlogConnectionOptions Connection { get; init; }

    /// <summary>The server id to register as; null picks a random one that no replica of the source uses.</summary>
    public uint? ServerId { get; init; }

    /// <summary>The name shown in SHOW SLAVE HOSTS.</summary>
    public string ReplicaHostName { get; init; } = "molt";

    /// <summary>How often the server sends a HEARTBEAT while it has nothing else to send.</summary>
    public TimeSpan HeartbeatPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Silence longer than this (no event, no heartbeat) means a dead connection; null = 3 heartbeat periods + 5 s.</summary>
    public TimeSpan? DeadConnectionTimeout { get; init; }

    /// <summary>End the stream at the end of the binlog (BINLOG_DUMP_NON_BLOCK) instead of waiting for more.</summary>
    public bool StopAtEnd { get; init; }

    /// <summary>Unsigned flags per column for tables whose binlog has no SIGNEDNESS metadata (binlog_row_metadata below FULL).</summary>
    public Func<TableMapEvent, IReadOnlyList<bool>?>? SignednessResolver { get; init; }

    internal TimeSpan EffectiveDeadConnectionTimeout => DeadConnectionTimeout ?? HeartbeatPeriod * 3 + TimeSpan.FromSeconds(5);
}
