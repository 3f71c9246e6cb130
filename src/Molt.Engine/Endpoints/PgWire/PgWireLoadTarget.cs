using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// A pgwire database (PostgreSQL, CockroachDB) a load writes to: its data source, the dialect its server speaks, and
/// what differs between the two, as the registry chose it for the server the address reached.
/// </summary>
internal sealed class PgWireLoadTarget : ILoadTarget
{
    private readonly Func<string, string, IAsyncDisposable>? importFileServer;

    /// <param name="importFileServer">Starts the HTTP server of IMPORT INTO's files (directory, listen address); null where there is none.</param>
    public PgWireLoadTarget(NpgsqlDataSource dataSource, ITargetDialect dialect, ITargetDependents dependents, RunLeaseKind leaseKind,
        Func<string, string, IAsyncDisposable>? importFileServer, string sourceDisplay, string display)
    {
        DataSource = dataSource;
        Dialect = dialect;
        Dependents = dependents;
        LeaseKind = leaseKind;
        SourceDisplay = sourceDisplay;
        Display = display;
        Writer = new PgWireBulkWriter(dataSource, dialect);
        this.importFileServer = importFileServer;
    }

    public NpgsqlDataSource DataSource { get; }

    public ITargetDialect Dialect { get; }

    public IShardWriter Writer { get; }

    public ITransactionRetry Retry { get; } = new TransactionRetry();

    public ITargetDependents Dependents { get; }

    public RunLeaseKind LeaseKind { get; }

    public string SourceDisplay { get; }

    public string Display { get; }

    public IAsyncDisposable ServeImportFiles(string directory, string listenAddress) =>
        importFileServer?.Invoke(directory, listenAddress)
        ?? throw new InvalidOperationException($"{Dialect.DisplayName} has no IMPORT INTO file server.");

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
