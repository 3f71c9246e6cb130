using Molt.Engine.Load;
using Molt.Engine.Schema;
using Serilog;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>What a MySQL/MariaDB source does with a date whose year, month or day is zero, which PostgreSQL cannot hold.</summary>
public enum ZeroDateHandling
{
    /// <summary>Load it as NULL (the column must allow NULL on the target).</summary>
    Null,

    /// <summary>Reject the row: it is recorded in _molt.fetch_exceptions and its table fails, other tables go on.</summary>
    Reject,
}

/// <summary>MySQL or MariaDB as a load source: its catalog and a consistent snapshot shared by every reader.</summary>
public sealed class MySqlSourceEndpoint : ISourceEndpoint
{
    private readonly EndpointAddress address;
    private readonly ZeroDateHandling zeroDates;
    private readonly ILogger log;

    private MySqlSourceEndpoint(EndpointAddress address, ZeroDateHandling zeroDates, ILogger log)
    {
        this.address = address;
        this.zeroDates = zeroDates;
        this.log = log;
        Catalog = new MySqlCatalogReader(MySqlConnections.Builder(address).ConnectionString, address.Database);
    }

    public EndpointKind Kind => address.Kind;

    public ICatalogReader Catalog { get; }

    /// <summary>Connects once, so that a wrong password or an unreachable server fails before anything else happens.</summary>
    public static async Task<MySqlSourceEndpoint> OpenAsync(EndpointAddress address, ZeroDateHandling zeroDates, ILogger log, CancellationToken cancellationToken)
    {
        await using (await MySqlConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false))
        {
        }

        return new MySqlSourceEndpoint(address, zeroDates, log);
    }

    public async Task<ISourceSnapshot> OpenSnapshotAsync(int readers, CancellationToken cancellationToken) =>
        await MySqlSnapshot.OpenAsync(address, readers, zeroDates, log, cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
