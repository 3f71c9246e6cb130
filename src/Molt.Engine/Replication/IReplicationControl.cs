using Molt.Engine.Schema;

namespace Molt.Engine.Replication;

/// <summary>A request, recorded by Stop-MoltReplication from anywhere, that a running stream stop.</summary>
/// <param name="Immediately">Stop after the source transaction being applied commits, without draining.</param>
/// <param name="At">Drain to this position; null (and not immediately): to the source's end when the stream reads the request.</param>
internal sealed record StopRequest(bool Immediately, SourcePosition? At, DateTimeOffset RequestedAt);

/// <summary>
/// Where a stream is claimed, asked to stop, and reports its status: the migration target's <c>_molt</c> schema, whichever
/// way the changes flow (failback keeps its checkpoint on the original source, but is controlled from the same place).
/// </summary>
internal interface IReplicationControl
{
    /// <summary>Claims the stream for this session until the returned claim is disposed (or the process dies).</summary>
    /// <exception cref="MoltException"><c>ReplicationStreamActive</c>: another session runs it (named).</exception>
    Task<IAsyncDisposable> ClaimAsync(string fetchId, CancellationToken cancellationToken);

    Task<StopRequest?> ReadStopRequestAsync(string fetchId, CancellationToken cancellationToken);

    /// <summary>Removes the stop request once the stream stopped for it, so the next Resume runs.</summary>
    Task ClearStopRequestAsync(string fetchId, CancellationToken cancellationToken);

    /// <summary>Records the stream's status for Get-MoltReplicationStatus and Stop-MoltReplication's wait.</summary>
    Task PublishAsync(ReplicationStatus status, CancellationToken cancellationToken);
}

/// <summary>
/// The position of the database changes are applied to, in its own notation, read where a change source on it would
/// start: recorded when a stream stops, so that failback reads exactly what was written there after the cutover.
/// </summary>
internal interface ITargetPosition
{
    Task<SourcePosition> ReadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// At a cutover (the stream stopped for a stop request): the position failback of <paramref name="fetchId"/> will start
    /// from, made readable where the target needs more than a position for that (a PostgreSQL target: a logical slot
    /// created now, since a slot cannot decode anything older than itself). The tables are the target tables of
    /// <paramref name="plans"/>. By default the position alone.
    /// </summary>
    async Task<TargetAnchor> AnchorAsync(string fetchId, IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken) =>
        new(await ReadAsync(cancellationToken).ConfigureAwait(false), null);
}

/// <summary>Where failback starts on the target, and the slot (if any) that keeps the target's log from there.</summary>
/// <param name="Warning">Why no slot could be made, when the target needed one: failback cannot start from this position alone.</param>
internal sealed record TargetAnchor(SourcePosition Position, string? Slot, string? Warning = null);
