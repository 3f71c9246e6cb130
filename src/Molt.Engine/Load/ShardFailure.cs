using Npgsql;

namespace Molt.Engine.Load;

/// <summary>What a failed shard records: a message, the SQLSTATE and, when the error names one, the rejected row's key.</summary>
internal sealed record ShardFailure(string Message, string? SqlState, string? RowKey)
{
    /// <summary>Whether the target ran out of disk (SQLSTATE 53100, disk_full): the shard goes in on a resume once there is room.</summary>
    public bool DiskFull => SqlState == "53100";

    /// <summary>
    /// Whether an exception is a shard's own failure (recorded, the table fails, other tables go on) rather than a bug:
    /// a server or driver error, a rejected row, a broken stream or file, or Molt's own error.
    /// </summary>
    public static bool IsShardFailure(Exception exception) =>
        exception is NpgsqlException or ShardRowRejectedException or RowRejectedException or InvalidDataException or IOException or MoltException
        || exception.GetType().Namespace?.StartsWith("MySqlConnector", StringComparison.Ordinal) == true;

    public static ShardFailure From(Exception exception) => exception switch
    {
        PostgresException { SqlState: "53100" } full => new ShardFailure($"the target's disk is full: {full.MessageText}", full.SqlState, null),
        PostgresException pg => new ShardFailure(
            pg.Where is null ? pg.MessageText : $"{pg.MessageText} ({pg.Where})", pg.SqlState, RowKeyOf(pg)),
        ShardRowRejectedException rejected => new ShardFailure(rejected.Message, null, rejected.RowKey),
        _ => new ShardFailure(exception.Message, null, null),
    };

    // PostgreSQL names the offending row in the detail of constraint errors: "Key (id)=(5) already exists.",
    // "Failing row contains (5, null)."; COPY errors say which input line in Where.
    private static string? RowKeyOf(PostgresException exception) =>
        exception.Detail is { } detail && (detail.StartsWith("Key ", StringComparison.Ordinal) || detail.StartsWith("Failing row", StringComparison.Ordinal))
            ? detail
            : exception.Where;
}
