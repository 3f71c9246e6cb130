using Molt.Engine.Schema;

namespace Molt.Engine.Replication;

/// <summary>
/// A database whose committed changes Molt reads: PostgreSQL logical decoding, the MySQL/MariaDB binlog, a CockroachDB
/// changefeed (failback). One implementation per database, under <c>Endpoints/</c>; the replication loop knows only this.
/// </summary>
internal interface IChangeSource : IAsyncDisposable
{
    /// <summary>
    /// Starts reading committed transactions of the source tables of <paramref name="plans"/> after <paramref name="from"/>
    /// (exclusive: a transaction that committed at <paramref name="from"/> is not sent again). The plans' target columns
    /// are there for a source whose values are converted for the target as the load converts them (MySQL).
    /// </summary>
    /// <exception cref="MoltException">The position is no longer available (slot dropped, binlog purged): named with the server setting.</exception>
    Task<IChangeStream> StartAsync(SourcePosition from, IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken);

    /// <summary>The source's current end: where a change committed now would be, for lag and for draining at cutover.</summary>
    Task<SourcePosition> ReadCurrentEndAsync(CancellationToken cancellationToken);
}

/// <summary>An open stream of committed changes, read by one consumer.</summary>
internal interface IChangeStream : IAsyncDisposable
{
    /// <summary>
    /// The changes in commit order, as described on <see cref="Change"/>. The sequence waits while the source is idle;
    /// it ends only when <paramref name="cancellationToken"/> is cancelled or the stream fails.
    /// </summary>
    IAsyncEnumerable<Change> ReadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Tells the source that everything up to <paramref name="position"/> is durable on the target, so it may release
    /// it (a slot's confirmed_flush_lsn). Call only after the target committed the checkpoint at that position.
    /// </summary>
    ValueTask ConfirmAsync(SourcePosition position, CancellationToken cancellationToken);

    /// <summary>The latest end of the source the stream has heard of (keepalives, heartbeats), or null before the first.</summary>
    SourcePosition? KnownEnd { get; }

    /// <summary>
    /// True when nothing is pending between the last change delivered and <see cref="KnownEnd"/>: the consumer may then
    /// confirm <see cref="KnownEnd"/> itself so that an idle source releases its log.
    /// </summary>
    bool IsIdle { get; }
}
