using Molt.Engine.Schema;
using Molt.Engine.State;
using Npgsql;

namespace Molt.Engine.Load;

/// <summary>
/// What a load needs of the database it writes to; the registry (Sessions) opens one for an address. Its state
/// (<c>_molt</c>) lives in the same database, reached through <see cref="DataSource"/>.
/// </summary>
internal interface ILoadTarget : IAsyncDisposable
{
    NpgsqlDataSource DataSource { get; }

    ITargetDialect Dialect { get; }

    IShardWriter Writer { get; }

    /// <summary>Runs a shard's transaction again when the target aborted it as a conflict it asks clients to retry.</summary>
    ITransactionRetry Retry { get; }

    /// <summary>What emptying or dropping the selected tables would also remove, read from this target's catalog.</summary>
    ITargetDependents Dependents { get; }

    /// <summary>How this target holds a run's claim (<see cref="RunLease"/>).</summary>
    RunLeaseKind LeaseKind { get; }

    /// <summary>
    /// Serves an IMPORT INTO's files over HTTP until disposed, for the target's nodes to read; asked only of a target
    /// whose dialect <see cref="ITargetDialect.SupportsImportInto"/>.
    /// </summary>
    IAsyncDisposable ServeImportFiles(string directory, string listenAddress);

    /// <summary>The source endpoint without its password, as recorded in the run's state.</summary>
    string SourceDisplay { get; }

    /// <summary>This target's address without its password, for messages that tell the user what to type next.</summary>
    string Display { get; }
}

/// <summary>Writes one shard's rows in one transaction that also records the shard as done.</summary>
internal interface IShardWriter
{
    /// <param name="onCommitting">Runs on the shard's connection and transaction after its rows are written, before the commit.</param>
    /// <param name="progress">Receives the rows and bytes written so far, every few thousand rows.</param>
    Task<ShardCopyResult> CopyAsync(TablePlan plan, ShardData data, Func<NpgsqlConnection, ShardCopyResult, Task> onCommitting,
        Action<ShardCopyResult> progress, CancellationToken cancellationToken);
}

/// <summary>Runs a whole transaction again while the server aborts it with an error it asks clients to retry.</summary>
internal interface ITransactionRetry
{
    /// <summary>Runs <paramref name="transaction"/>; returns its result and how many attempts it took.</summary>
    Task<(T Result, int Attempts)> RunAsync<T>(Func<CancellationToken, Task<T>> transaction, CancellationToken cancellationToken);
}
