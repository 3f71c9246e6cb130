using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Npgsql;
using Serilog;

namespace Molt.Engine.Endpoints.Postgres;

/// <summary>PostgreSQL as a load source: its catalog and its exported snapshots.</summary>
internal sealed class PostgresSourceEndpoint : ISourceEndpoint
{
    private readonly EndpointAddress address;
    private readonly NpgsqlDataSource dataSource;
    private readonly PostgresSourceOptions options;
    private readonly ILogger log;

    private PostgresSourceEndpoint(EndpointAddress address, NpgsqlDataSource dataSource, PostgresSourceOptions options, ILogger log)
    {
        this.address = address;
        this.dataSource = dataSource;
        this.options = options;
        this.log = log;
        Catalog = new PostgresCatalogReader(dataSource);
    }

    public string DisplayName => "PostgreSQL";

    public SqlSyntax Syntax => SqlSyntax.Postgres;

    public ICatalogReader Catalog { get; }

    /// <summary>Connects once, so that a wrong password or an unreachable server fails before anything else happens.</summary>
    public static async Task<PostgresSourceEndpoint> OpenAsync(EndpointAddress address, PostgresSourceOptions options, ILogger log,
        CancellationToken cancellationToken)
    {
        await using (await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false))
        {
        }

        return new PostgresSourceEndpoint(address, PgWireConnections.CreateDataSource(address), options, log);
    }

    public async Task<ISourceSnapshot> OpenSnapshotAsync(int readers, CancellationToken cancellationToken) =>
        await PostgresSnapshot.OpenAsync(address, dataSource, options.ReplicationSlot, readers, log, cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}

internal sealed record PostgresSourceOptions
{
    /// <summary>
    /// Create this logical replication slot (pgoutput) and load from the snapshot it exports, so replication can start
    /// at the slot with nothing missed or repeated. Without it, the snapshot's position is the WAL insert position read
    /// inside the snapshot (changes committed around that moment may be replayed, which idempotent apply absorbs).
    /// </summary>
    public string? ReplicationSlot { get; init; }
}
