using Molt.Engine.Checks;
using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Molt.Engine.Verify;
using Npgsql;
using Serilog;

namespace Molt.Engine.Sessions;

/// <summary>
/// The only code that maps an address to a database's implementations, and the only code that tells CockroachDB from
/// PostgreSQL and MariaDB from MySQL (by asking the server, whatever scheme the address used). Flows get what it opens
/// as their own interfaces and never learn which database is behind them.
/// </summary>
internal static partial class DatabaseRegistry
{
    private static readonly Database MySqlFamily = new()
    {
        LoadSource = async (address, options, log, ct) => await MySqlSourceEndpoint.OpenAsync(address, options.ZeroDates, log, ct).ConfigureAwait(false),
        Prerequisites = MySqlPrerequisites.CheckAsync,
        VerifySide = address => new MySqlVerifySide(address),
        Replication = MySqlReplication,
    };

    private static readonly Dictionary<EndpointKind, Database> Databases = new Dictionary<EndpointKind, Database>
    {
        [EndpointKind.Postgres] = new()
        {
            LoadSource = async (address, options, log, ct) => await PostgresSourceEndpoint.OpenAsync(address,
                new PostgresSourceOptions { ReplicationSlot = options.ReplicationSlot }, log, ct).ConfigureAwait(false),
            LoadTarget = new(async (_, dataSource, ct) => new PostgresDialect(await PostgresExtensions.HasPostGisAsync(dataSource, ct).ConfigureAwait(false)),
                () => new PostgresTargetDependents(), RunLeaseKind.AdvisoryLock, null)
            {
                SessionSettings = PostgresSessionSettings.Load,
            },
            Prerequisites = PostgresPrerequisites.CheckAsync,
            VerifySide = address => new PgWireVerifySide(address, dataSource => new PostgresCatalogReader(dataSource), binaryCopy: true),
            Replication = PostgresReplication,
        },
        [EndpointKind.CockroachDb] = new()
        {
            LoadTarget = new((options, _, _) => Task.FromResult<ITargetDialect>(
                    new CockroachDialect(options.AllowMissingPrimaryKey ? MissingPrimaryKey.AddRowId : MissingPrimaryKey.Refuse)),
                () => new CockroachTargetDependents(), RunLeaseKind.RowLock, ImportFileServer.Start)
            {
                SessionSettings = CockroachSessionSettings.Load,
            },
            Prerequisites = CockroachPrerequisites.CheckAsync,
            // CockroachDB answers the PostgreSQL catalog queries the verify side reads tables with.
            VerifySide = address => new PgWireVerifySide(address, dataSource => new PostgresCatalogReader(dataSource)),
            Replication = CockroachReplication,
        },
        [EndpointKind.MySql] = MySqlFamily,
        [EndpointKind.MariaDb] = MySqlFamily,
    };

    /// <summary>The address named as the database its server says it is; connecting fails here when it is unreachable.</summary>
    public static async Task<EndpointAddress> ResolveAsync(EndpointAddress address, CancellationToken cancellationToken)
    {
        if (address.Kind.IsPgWire())
        {
            await using var connection = await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
            var version = await PgWireConnections.VersionAsync(connection, cancellationToken).ConfigureAwait(false);
            return address.WithKind(PgWireConnections.IsCockroachDb(version) ? EndpointKind.CockroachDb : EndpointKind.Postgres);
        }

        var serverVersion = await MySqlConnections.ServerVersionAsync(address, cancellationToken).ConfigureAwait(false);
        return address.WithKind(MySqlConnections.IsMariaDb(serverVersion) ? EndpointKind.MariaDb : EndpointKind.MySql);
    }

    /// <summary>Opens the load source for an address (connecting once, so a wrong password fails before anything else).</summary>
    public static Task<ISourceEndpoint> OpenSourceAsync(EndpointAddress address, SourceOptions options, ILogger log, CancellationToken cancellationToken) =>
        Databases[address.Kind].LoadSource is { } open
            ? open(address, options, log, cancellationToken)
            : throw new MoltException(MoltErrorKind.InvalidArgument, "UnsupportedSource",
                $"{address.Kind.DisplayName()} cannot be a bulk-load source.",
                "Load from PostgreSQL, MySQL or MariaDB; to replicate CockroachDB back to the source use Invoke-MoltFailback.") { Target = address.Label };

    /// <summary>Refuses, before anything connects, a target a load cannot write to.</summary>
    public static void EnsureLoadTarget(EndpointAddress address)
    {
        if (Databases[address.Kind].LoadTarget is null)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "UnsupportedTarget",
                $"{address.Kind.DisplayName()} cannot be a bulk-load target.",
                "Load into CockroachDB or PostgreSQL (cockroachdb://, postgres:// or a connection string without Engine=MySQL/MariaDB).")
            {
                Target = address.Label,
            };
        }
    }

    /// <summary>
    /// Connects to a load target (failing before anything is written when it is unreachable or refuses the login) and
    /// picks its implementations by what the server says it is. <paramref name="targetAs"/> (tests) uses another
    /// database's implementations on this server; session settings still follow the server, which may lack them.
    /// </summary>
    public static async Task<ILoadTarget> OpenLoadTargetAsync(EndpointAddress address, EndpointAddress source, BulkLoadOptions options,
        EndpointKind? targetAs, ILogger log, CancellationToken cancellationToken)
    {
        EnsureLoadTarget(address);
        var server = (await ResolveAsync(address, cancellationToken).ConfigureAwait(false)).Kind;
        if (address.Kind == EndpointKind.CockroachDb && server == EndpointKind.Postgres)
        {
            log.Warning("The target {Target} is named as CockroachDB but the server is PostgreSQL: the load uses the PostgreSQL dialect", address.Display);
        }

        var parts = Databases[targetAs ?? server].LoadTarget!;
        var settings = Databases[server].LoadTarget!.SessionSettings;
        var dataSource = PgWireConnections.CreateDataSource(address, sessionSettings: settings);
        try
        {
            var dialect = await parts.Dialect(options, dataSource, cancellationToken).ConfigureAwait(false);
            return new PgWireLoadTarget(dataSource, dialect, parts.Dependents(), parts.Lease, parts.ImportFileServer, source.Display, address.Display);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A target's <c>_molt</c> state, and how its server holds a run's claim.</summary>
    public static async Task<(NpgsqlDataSource DataSource, RunLeaseKind Lease)> OpenStateAsync(EndpointAddress address, CancellationToken cancellationToken)
    {
        var server = (await ResolveAsync(address, cancellationToken).ConfigureAwait(false)).Kind;
        return (PgWireConnections.CreateDataSource(address), Databases[server].LoadTarget!.Lease);
    }

    /// <summary>Checks the chosen flow's prerequisites against the server the address reaches, named as what it says it is.</summary>
    public static async Task<ConnectionReport> CheckPrerequisitesAsync(EndpointAddress address, EndpointRole role, MigrationFlow flow,
        CancellationToken cancellationToken)
    {
        var resolved = await ResolveAsync(address, cancellationToken).ConfigureAwait(false);
        return await Databases[resolved.Kind].Prerequisites(resolved, role, flow, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One side of a comparison.</summary>
    public static VerifySide OpenVerifySide(EndpointAddress address) => Databases[address.Kind].VerifySide(address);

    /// <summary>Connects once and lets go: an unreachable server or a refused login fails here, before any work.</summary>
    public static async Task EnsureReachableAsync(EndpointAddress address, CancellationToken cancellationToken)
    {
        if (address.Kind.IsMySqlFamily())
        {
            await (await MySqlConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            await (await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// What one database contributes to the flows; a null part is one it cannot play. A new part (a change source, an
    /// applier) is one more member here and one line in each database that has it.
    /// </summary>
    private sealed record Database
    {
        public Func<EndpointAddress, SourceOptions, ILogger, CancellationToken, Task<ISourceEndpoint>>? LoadSource { get; init; }

        public LoadTargetParts? LoadTarget { get; init; }

        public required Func<EndpointAddress, EndpointRole, MigrationFlow, CancellationToken, Task<ConnectionReport>> Prerequisites { get; init; }

        public required Func<EndpointAddress, VerifySide> VerifySide { get; init; }

        public ReplicationParts? Replication { get; init; }
    }

    /// <summary>What a pgwire database writes a load with; its dialect may ask the target what it has installed.</summary>
    private sealed record LoadTargetParts(Func<BulkLoadOptions, NpgsqlDataSource, CancellationToken, Task<ITargetDialect>> Dialect, Func<ITargetDependents> Dependents, RunLeaseKind Lease,
        Func<string, string, IAsyncDisposable>? ImportFileServer)
    {
        /// <summary>SET statements every connection of the load runs; only settings this server has.</summary>
        public IReadOnlyList<string> SessionSettings { get; init; } = [];
    }
}
