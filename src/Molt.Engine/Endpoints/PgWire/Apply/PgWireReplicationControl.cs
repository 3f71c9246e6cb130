using System.Globalization;
using Molt.Engine.Replication;
using Molt.Engine.State;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// A stream's claim, stop requests and published status in a pgwire target's <c>_molt</c> schema. The claim is a load
/// run's lease (<see cref="RunLease"/>) under a name of the stream's own, so it ends with the claiming session whether
/// the stream stops or its process dies; the stream's row says who holds it, for the refusal and for status readers.
/// </summary>
public sealed class PgWireReplicationControl(NpgsqlDataSource target, RunLeaseKind leaseKind) : IReplicationControl
{
    private readonly ReplicationStateStore state = new(target);

    /// <summary>Who this process is, as a stream's holder: "host pid N since time".</summary>
    public static string Holder { get; } =
        string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName} pid {Environment.ProcessId} since {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z");

    /// <summary>The lease name of a stream: never the same as its load run's, which a Start holds while it loads.</summary>
    internal static string LeaseName(string fetchId) => "replication " + fetchId;

    public async Task<IAsyncDisposable> ClaimAsync(string fetchId, CancellationToken cancellationToken)
    {
        await state.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RunLease.AcquireAsync(target, leaseKind, LeaseName(fetchId), cancellationToken).ConfigureAwait(false);
        }
        catch (MoltException ex) when (ex.Kind == MoltErrorKind.InUse)
        {
            var holder = (await state.ReadStreamsAsync(fetchId, cancellationToken).ConfigureAwait(false)).FirstOrDefault()?.HeldBy ?? "another session";
            throw new MoltException(MoltErrorKind.InUse, "ReplicationStreamActive",
                $"Replication stream '{fetchId}' is running already ({holder}): two sessions applying one stream would apply its changes twice.",
                "Stop it first (Stop-MoltReplication), or wait for it. If its process is gone but the target still holds its session (its machine lost " +
                "the network), end that session (PostgreSQL: pg_terminate_backend with the pid pg_locks shows holding the advisory lock; CockroachDB: " +
                "CANCEL SESSION for the open transaction on _molt.fetch_leases).", ex)
            {
                Target = fetchId,
            };
        }
    }

    public async Task<StopRequest?> ReadStopRequestAsync(string fetchId, CancellationToken cancellationToken) =>
        await state.ReadStopAsync(fetchId, cancellationToken).ConfigureAwait(false) is { } stop
            ? new StopRequest(stop.Immediately, stop.Notation is { } n && stop.Position is { } p ? SourcePosition.Parse(n, p) : null, stop.RequestedAt)
            : null;

    public Task ClearStopRequestAsync(string fetchId, CancellationToken cancellationToken) => state.ClearStopAsync(fetchId, cancellationToken);

    public Task PublishAsync(ReplicationStatus status, CancellationToken cancellationToken) => state.WriteStreamAsync(new StreamRow(status.FetchId, status.State.ToString())
    {
        Slot = status.Slot,
        HeldBy = status.State is ReplicationState.Stopped or ReplicationState.Failed ? null : Holder,
        SourceEndNotation = status.SourceEnd?.Notation,
        SourceEnd = status.SourceEnd?.ToString(),
        StopAtNotation = status.StopAt?.Notation,
        StopAt = status.StopAt?.ToString(),
        TargetPositionNotation = status.TargetPosition?.Notation,
        TargetPosition = status.TargetPosition?.ToString(),
        LagBytes = status.LagBytes,
        LagSeconds = status.LagSeconds,
        Rate = status.Rate,
        Error = status.Error,
    }, cancellationToken);
}
