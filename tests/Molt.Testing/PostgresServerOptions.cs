namespace Molt.Testing;

public sealed class PostgresServerOptions
{
    /// <summary>wal_level = logical when true, replica when false.</summary>
    public bool LogicalReplication { get; init; } = true;

    public int MaxReplicationSlots { get; init; } = 10;

    public int MaxWalSenders { get; init; } = 10;

    /// <summary>More server settings (name to value), passed as -c options after the defaults so they win.</summary>
    public IReadOnlyDictionary<string, string>? ExtraSettings { get; init; }
}
