using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Endpoints.Postgres;
using Serilog;

namespace Molt.Engine.Load;

/// <summary>Endpoint-specific settings of a load; each endpoint reads the ones that concern it.</summary>
public sealed record SourceOptions
{
    /// <summary>PostgreSQL: the logical replication slot to create with the load's snapshot.</summary>
    public string? ReplicationSlot { get; init; }

    /// <summary>MySQL/MariaDB: what a zero date ('0000-00-00', '2024-00-10') becomes.</summary>
    public ZeroDateHandling ZeroDates { get; init; } = ZeroDateHandling.Null;
}

/// <summary>Opens the load source for an address, by the database it names.</summary>
public static class SourceEndpoints
{
    public static async Task<ISourceEndpoint> OpenAsync(EndpointAddress address, SourceOptions options, ILogger log, CancellationToken cancellationToken) =>
        address.Kind switch
        {
            EndpointKind.Postgres => await PostgresSourceEndpoint.OpenAsync(address, new PostgresSourceOptions { ReplicationSlot = options.ReplicationSlot },
                log, cancellationToken).ConfigureAwait(false),
            EndpointKind.MySql or EndpointKind.MariaDb => await MySqlSourceEndpoint.OpenAsync(address, options.ZeroDates, log, cancellationToken)
                .ConfigureAwait(false),
            _ => throw new MoltException(MoltErrorKind.InvalidArgument, "UnsupportedSource",
                $"{address.Kind.DisplayName()} cannot be a bulk-load source.",
                "Load from PostgreSQL, MySQL or MariaDB; to replicate CockroachDB back to the source use Invoke-MoltFailback.") { Target = address.Label },
        };
}
