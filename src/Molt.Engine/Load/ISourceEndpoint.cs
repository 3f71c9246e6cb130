using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Load;

/// <summary>
/// A database the load reads from. One implementation per source engine (Endpoints/Postgres, Endpoints/MySql);
/// the load pipeline knows nothing else about the source.
/// </summary>
internal interface ISourceEndpoint : IAsyncDisposable
{
    /// <summary>The product, as a user names it (PostgreSQL, MySQL, MariaDB): recorded with the run and shown in messages.</summary>
    string DisplayName { get; }

    /// <summary>The SQL the source's tables are defined in, which the target dialect translates.</summary>
    SqlSyntax Syntax { get; }

    ICatalogReader Catalog { get; }

    /// <summary>
    /// Opens one consistent point in time that <paramref name="readers"/> connections all read from, and records
    /// where change replication must start to continue exactly after it.
    /// </summary>
    Task<ISourceSnapshot> OpenSnapshotAsync(int readers, CancellationToken cancellationToken);

    /// <summary>
    /// Checks the planned tables against what the source holds, before anything is written: returns them, adjusted
    /// where the source's values require it, or refuses them with a <see cref="MoltException"/>.
    /// </summary>
    Task<IReadOnlyList<TablePlan>> ReviewPlansAsync(IReadOnlyList<TablePlan> plans, TableHandling tableHandling, CancellationToken cancellationToken) =>
        Task.FromResult(plans);
}

/// <summary>
/// A consistent snapshot of the source, held open (with its reader connections) until disposed. Its methods may
/// be called concurrently, at most as many reads at once as the snapshot has readers.
/// </summary>
internal interface ISourceSnapshot : IAsyncDisposable
{
    /// <summary>Where replication continues after this snapshot (a PostgreSQL LSN, a MySQL binlog file/position and GTID set).</summary>
    SourcePosition Position { get; }

    /// <summary>
    /// Which source transactions the snapshot's rows hold, where that is not exactly those before <see cref="Position"/>:
    /// a PostgreSQL snapshot that is not a slot's exported one (a resumed load's) gives its <c>txid_current_snapshot()</c>,
    /// recorded with each shard it loads so that replication skips a table's changes its rows already hold. Null otherwise.
    /// </summary>
    string? Visibility => null;

    /// <summary>
    /// Splits a table into up to <paramref name="count"/> primary-key ranges of similar size, as seen in the snapshot;
    /// <paramref name="rows"/> is how many rows the table holds (counted or estimated), for keys split by row counts.
    /// A table without a usable key (none, or a first key column that cannot be ranged) is one unbounded range.
    /// </summary>
    Task<IReadOnlyList<KeyRange>> SplitAsync(TableModel table, int count, long rows, string? where, CancellationToken cancellationToken);

    /// <summary>The exact number of a table's rows that satisfy <paramref name="where"/> in the snapshot.</summary>
    Task<long> CountRowsAsync(TableModel table, string? where, CancellationToken cancellationToken);

    /// <summary>
    /// Starts reading one shard of a table in the snapshot: the rows of <paramref name="range"/> that satisfy
    /// <paramref name="where"/> (a predicate in the source's SQL), columns in <see cref="TablePlan.Columns"/> order.
    /// The returned data holds one of the snapshot's readers until it is disposed.
    /// </summary>
    Task<ShardData> ReadAsync(TablePlan plan, KeyRange range, string? where, CancellationToken cancellationToken);

    /// <summary>The same rows as <see cref="ReadAsync"/>, as CSV for IMPORT INTO.</summary>
    Task<CsvShard> ReadCsvAsync(TablePlan plan, KeyRange range, string? where, CancellationToken cancellationToken);
}
