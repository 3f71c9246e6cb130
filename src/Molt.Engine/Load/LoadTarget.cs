using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Schema;
using Npgsql;
using Serilog;

namespace Molt.Engine.Load;

/// <summary>The pgwire database a load writes to, with the dialect its server speaks.</summary>
public sealed class LoadTarget : IAsyncDisposable
{
    private LoadTarget(NpgsqlDataSource dataSource, ITargetDialect dialect, string sourceDisplay, string display)
    {
        Display = display;
        DataSource = dataSource;
        Dialect = dialect;
        SourceDisplay = sourceDisplay;
        Writer = new PgWireBulkWriter(dataSource, dialect);
    }

    public NpgsqlDataSource DataSource { get; }

    public ITargetDialect Dialect { get; }

    public PgWireBulkWriter Writer { get; }

    /// <summary>The source endpoint without its password, as recorded in the run's state.</summary>
    public string SourceDisplay { get; }

    /// <summary>This target's address without its password, for messages that tell the user what to type next.</summary>
    public string Display { get; }

    /// <summary>Refuses, before anything connects, a target a load cannot write to: loads write over pgwire only.</summary>
    public static void EnsureSupported(EndpointAddress address)
    {
        if (!address.Kind.IsPgWire())
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
    /// Connects (failing before anything is written when the target is unreachable or refuses the login) and picks the
    /// dialect from what the server says it is, whatever scheme the address used.
    /// </summary>
    public static async Task<LoadTarget> OpenAsync(EndpointAddress address, EndpointAddress source, Func<EndpointKind, ITargetDialect> dialects,
        ILogger log, CancellationToken cancellationToken)
    {
        EnsureSupported(address);
        EndpointKind kind;
        await using (var connection = await PostgresConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false))
        {
            kind = await PostgresConnections.ServerKindAsync(connection, cancellationToken).ConfigureAwait(false);
        }

        if (address.Kind == EndpointKind.CockroachDb && kind == EndpointKind.Postgres)
        {
            log.Warning("The target {Target} is named as CockroachDB but the server is PostgreSQL: the load uses the PostgreSQL dialect", address.Display);
        }

        // Settings that exist only on a real CockroachDB server go by what the server said, not by the dialect (tests force
        // the CockroachDB dialect onto PostgreSQL, which has no such setting).
        var settings = kind == EndpointKind.CockroachDb ? CockroachSessionSettings.Load : [];
        return new LoadTarget(PostgresConnections.CreateDataSource(address, sessionSettings: settings), dialects(kind), source.Display, address.Display);
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
