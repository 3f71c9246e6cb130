using Molt.Engine.Schema;

namespace Molt.Engine.Load;

/// <summary>Endpoint-specific settings of a load; each endpoint reads the ones that concern it.</summary>
public sealed record SourceOptions
{
    /// <summary>PostgreSQL: the logical replication slot to create with the load's snapshot.</summary>
    public string? ReplicationSlot { get; init; }

    /// <summary>MySQL/MariaDB: what a zero date ('0000-00-00', '2024-00-10') becomes.</summary>
    public ZeroDateHandling ZeroDates { get; init; } = ZeroDateHandling.Null;
}
