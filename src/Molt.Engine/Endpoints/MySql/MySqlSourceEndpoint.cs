using Molt.Engine.Load;
using Molt.Engine.Schema;
using Serilog;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>What a MySQL/MariaDB source does with a date whose year, month or day is zero, which PostgreSQL cannot hold.</summary>
public enum ZeroDateHandling
{
    /// <summary>
    /// Load it as NULL. A NOT NULL column that holds zero dates cannot take NULL: planning refuses the load, naming it.
    /// </summary>
    Null,

    /// <summary>Reject the row: it is recorded in _molt.fetch_exceptions and its table fails, other tables go on.</summary>
    Reject,

    /// <summary>
    /// Load it as NULL, and create the NOT NULL columns that hold zero dates nullable on the target (a warning names
    /// each). Only with <see cref="Load.TableHandling.DropAndRecreate"/>, which creates the columns.
    /// </summary>
    DropNotNull,

    /// <summary>Load it as <see cref="ZeroDateSentinel"/>: '0001-01-01', '0001-01-01 00:00:00' (UTC for a TIMESTAMP).</summary>
    Sentinel,
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

    /// <summary>NOT NULL date columns that hold zero dates are refused or made nullable, as the zero-date handling says.</summary>
    public Task<IReadOnlyList<TablePlan>> ReviewPlansAsync(IReadOnlyList<TablePlan> plans, TableHandling tableHandling, CancellationToken cancellationToken) =>
        new MySqlZeroDateCheck(address, zeroDates, log).ReviewAsync(plans, tableHandling, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
