using Molt.Engine.Load;
using Molt.Engine.Schema;
using Serilog;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>MySQL or MariaDB as a load source: its catalog and a consistent snapshot shared by every reader.</summary>
internal sealed class MySqlSourceEndpoint : ISourceEndpoint
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

    public string DisplayName => address.Kind.DisplayName();

    public SqlSyntax Syntax => SqlSyntax.MySql;

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

    /// <summary>NOT NULL date columns that hold zero dates are refused or made nullable, as the zero-date handling says.</summary>
    public Task<IReadOnlyList<TablePlan>> ReviewPlansAsync(IReadOnlyList<TablePlan> plans, TableHandling tableHandling, CancellationToken cancellationToken) =>
        new MySqlZeroDateCheck(address, zeroDates, log).ReviewAsync(plans, tableHandling, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
