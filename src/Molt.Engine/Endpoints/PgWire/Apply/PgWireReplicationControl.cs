using System.Globalization;
using Molt.Engine.Replication;
using Molt.Engine.State;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// A stream's claim, stop requests and published status in a pgwire target's <c>_molt</c> schema. The claim is a load
/// run's lease (<see cref="RunLease"/>) under a name of the stream's own, so it ends with the claiming session whether
/// the stream stops or its process dies; the stream's row says who holds it, for the refusal and for status readers.
/// A FetchId has a stream each way (<paramref name="direction"/>): failback's rows are kept under a key of their own, so
/// the two never overwrite each other's status or stop request, and neither can be claimed while the other runs (each
/// would send the other's changes back: a loop).
/// </summary>
internal sealed class PgWireReplicationControl(NpgsqlDataSource target, RunLeaseKind leaseKind,
    ReplicationDirection direction = ReplicationDirection.Forward) : IReplicationControl
{
    private const string FailbackKeyPrefix = "failback:";

    private readonly ReplicationStateStore state = new(target);
    private readonly Dictionary<string, StreamClaim> claims = [];

    /// <summary>Who this process is, as a stream's holder: "host pid N since time".</summary>
    public static string Holder { get; } =
        string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName} pid {Environment.ProcessId} since {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z");

    /// <summary>The lease name of a stream: never the same as its load run's, which a Start holds while it loads.</summary>
    internal static string LeaseName(string fetchId, ReplicationDirection direction = ReplicationDirection.Forward) =>
        (direction == ReplicationDirection.Failback ? "failback " : "replication ") + fetchId;

    /// <summary>The row key of a stream in <c>_molt</c>: the FetchId forward (as before failback existed), prefixed for failback.</summary>
    internal static string StreamKey(string fetchId, ReplicationDirection direction) =>
        direction == ReplicationDirection.Failback ? FailbackKeyPrefix + fetchId : fetchId;

    public ReplicationDirection Direction => direction;

    /// <summary>The control of the stream the other way (or this way) of the same target.</summary>
    public PgWireReplicationControl For(ReplicationDirection of) => new(target, leaseKind, of);

    public async Task<IAsyncDisposable> ClaimAsync(string fetchId, CancellationToken cancellationToken)
    {
        await state.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var lease = await AcquireAsync(fetchId, cancellationToken).ConfigureAwait(false);

        // Checked while holding our own lease: of two sessions starting opposite directions at once, at least one sees the other.
        var other = direction == ReplicationDirection.Forward ? ReplicationDirection.Failback : ReplicationDirection.Forward;
        try
        {
            if (await IsRunningAsync(fetchId, other, cancellationToken).ConfigureAwait(false))
            {
                var holder = await HolderAsync(fetchId, other, cancellationToken).ConfigureAwait(false);
                throw new MoltException(MoltErrorKind.InUse, "ReplicationOppositeStreamActive",
                    $"{Name(other)} '{fetchId}' is running ({holder}): running {Name(direction).ToLowerInvariant()} of the same FetchId at the same time " +
                    "would send each stream's changes back to where they came from.",
                    $"Stop it first: Stop-MoltReplication -FetchId '{fetchId}'{(other == ReplicationDirection.Failback ? " -Failback" : "")}.")
                {
                    Target = fetchId,
                };
            }
        }
        catch
        {
            await lease.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var claim = new StreamClaim(this, fetchId, lease);
        lock (claims)
        {
            claims[fetchId] = claim;
        }

        return claim;
    }

    private async Task<RunLease> AcquireAsync(string fetchId, CancellationToken cancellationToken)
    {
        RunLease lease;
        try
        {
            lease = await RunLease.AcquireAsync(target, leaseKind, LeaseName(fetchId, direction), cancellationToken).ConfigureAwait(false);
        }
        catch (MoltException ex) when (ex.Kind == MoltErrorKind.InUse)
        {
            var holder = await HolderAsync(fetchId, direction, cancellationToken).ConfigureAwait(false);
            throw new MoltException(MoltErrorKind.InUse, "ReplicationStreamActive",
                $"{Name(direction)} stream '{fetchId}' is running already ({holder}): two sessions applying one stream would apply its changes twice.",
                "Stop it first (Stop-MoltReplication), or wait for it. If its process is gone but the target still holds its session (its machine lost " +
                "the network), end that session (PostgreSQL: pg_terminate_backend with the pid pg_locks shows holding the advisory lock; CockroachDB: " +
                "CANCEL SESSION for the open transaction on _molt.fetch_leases).", ex)
            {
                Target = fetchId,
            };
        }

        return lease;
    }

    /// <summary>Whether a session runs this control's stream of <paramref name="fetchId"/> now.</summary>
    public Task<bool> IsRunningAsync(string fetchId, CancellationToken cancellationToken) => IsRunningAsync(fetchId, direction, cancellationToken);

    /// <summary>
    /// Every stream recorded on the target (or both streams of one FetchId), forward ones first, as its last status said,
    /// with its checkpoint. A stream whose status says it runs while nobody holds it ended without stopping (its process
    /// was killed or lost its connection).
    /// </summary>
    public async Task<IReadOnlyList<ReplicationStatus>> ReadStatusesAsync(string? fetchId, CancellationToken cancellationToken)
    {
        // Streams before checkpoints: a stream's checkpoint is written before its status, so a stream read as stopped is
        // paired with its final checkpoint, never with the one before (which would under-count its changes).
        var streams = await state.ReadStreamsAsync(null, cancellationToken).ConfigureAwait(false);
        var checkpoints = (await state.ReadCheckpointsAsync(null, cancellationToken).ConfigureAwait(false)).ToDictionary(c => c.FetchId);
        var statuses = new List<ReplicationStatus>();
        foreach (var stream in streams)
        {
            var (id, streamDirection) = ParseKey(stream.FetchId);
            if (fetchId is not null && id != fetchId)
            {
                continue;
            }

            var checkpoint = checkpoints.TryGetValue(stream.FetchId, out var row) ? PgWireChangeApplier.ToCheckpoint(row) with { FetchId = id } : null;
            var recorded = Enum.Parse<ReplicationState>(stream.State);
            var held = recorded is not (ReplicationState.Stopped or ReplicationState.Failed)
                && await IsRunningAsync(id, streamDirection, cancellationToken).ConfigureAwait(false);
            var abandoned = recorded is not (ReplicationState.Stopped or ReplicationState.Failed) && !held;
            var resume = streamDirection == ReplicationDirection.Failback ? "Invoke-MoltFailback" : "Resume-MoltReplication";
            statuses.Add(new ReplicationStatus(id, abandoned ? ReplicationState.Failed : recorded, stream.UpdatedAt)
            {
                Direction = streamDirection,
                SourcePosition = checkpoint?.Position,
                SourceEnd = Position(stream.SourceEndNotation, stream.SourceEnd),
                LagBytes = stream.LagBytes,
                LagSeconds = stream.LagSeconds,
                Transactions = checkpoint?.Transactions ?? 0,
                Inserts = checkpoint?.Inserts ?? 0,
                Updates = checkpoint?.Updates ?? 0,
                Deletes = checkpoint?.Deletes ?? 0,
                Rate = stream.Rate,
                LastCommitAt = checkpoint?.SourceCommittedAt,
                Checkpoint = checkpoint,
                StopAt = Position(stream.StopAtNotation, stream.StopAt),
                TargetPosition = Position(stream.TargetPositionNotation, stream.TargetPosition),
                HeldBy = held ? stream.HeldBy : null,
                Slot = stream.Slot,
                FailbackSlot = stream.FailbackSlot,
                Error = abandoned ? AbandonedError(recorded, id, resume) : stream.Error,
            });
        }

        return statuses.OrderBy(s => s.Direction).ThenBy(s => s.FetchId, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// What a stream whose process ended without stopping it needs next. One killed while loading has no checkpoint and an
    /// unfinished load, which Resume-MoltReplication refuses, so it is pointed at the load's resume instead.
    /// </summary>
    internal static string AbandonedError(ReplicationState recorded, string fetchId, string resume = "Resume-MoltReplication") => recorded == ReplicationState.Loading
        ? $"The process ended during the load without stopping it (killed, or its connection lost), so nothing was streamed. Finish the load " +
          $"(Start-MoltBulkLoad -FetchId '{fetchId}' -Resume), then Resume-MoltReplication -FetchId '{fetchId}'; or Remove-MoltReplication to drop the slot."
        : $"The stream's process ended without stopping it (killed, or its connection lost); {resume} continues from the checkpoint.";

    /// <summary>This control's stream of <paramref name="fetchId"/>, or null when none is recorded.</summary>
    public async Task<ReplicationStatus?> ReadStatusAsync(string fetchId, CancellationToken cancellationToken) =>
        (await ReadStatusesAsync(fetchId, cancellationToken).ConfigureAwait(false)).FirstOrDefault(s => s.Direction == direction);

    /// <summary>Records a stop request for the running stream.</summary>
    public Task RequestStopAsync(string fetchId, bool immediately, SourcePosition? at, CancellationToken cancellationToken) =>
        state.RequestStopAsync(new StopRow(Key(fetchId), immediately, at?.Notation, at?.ToString(), DateTimeOffset.UtcNow), cancellationToken);

    public Task MarkRemovedAsync(string fetchId, CancellationToken cancellationToken) => state.MarkRemovedAsync(Key(fetchId), cancellationToken);

    /// <summary>Reads the stream's stop request; first claims the stream again if its claim ended with its connection (a target restart).</summary>
    /// <exception cref="MoltException"><c>ReplicationStreamActive</c>: another session claimed the stream meanwhile.</exception>
    public async Task<StopRequest?> ReadStopRequestAsync(string fetchId, CancellationToken cancellationToken)
    {
        StreamClaim? claim;
        lock (claims)
        {
            claims.TryGetValue(fetchId, out claim);
        }

        if (claim is not null)
        {
            await claim.RenewAsync(cancellationToken).ConfigureAwait(false);
        }

        return await state.ReadStopAsync(Key(fetchId), cancellationToken).ConfigureAwait(false) is { } stop
            ? new StopRequest(stop.Immediately, stop.Notation is { } n && stop.Position is { } p ? SourcePosition.Parse(n, p) : null, stop.RequestedAt)
            : null;
    }

    public Task ClearStopRequestAsync(string fetchId, CancellationToken cancellationToken) => state.ClearStopAsync(Key(fetchId), cancellationToken);

    public async Task PublishAsync(ReplicationStatus status, CancellationToken cancellationToken)
    {
        if (direction == ReplicationDirection.Failback && status.Checkpoint is { } checkpoint)
        {
            // Failback's checkpoint is written on the original source with its changes; status readers look here. Before
            // the status, so that a reader who sees the stream stopped also sees what it applied.
            await state.WriteCheckpointCopyAsync(new CheckpointRow(Key(status.FetchId), checkpoint.Position.Notation, checkpoint.Position.ToString(),
                checkpoint.SourceCommittedAt, checkpoint.Transactions, checkpoint.Inserts, checkpoint.Updates, checkpoint.Deletes), cancellationToken).ConfigureAwait(false);
        }

        await state.WriteStreamAsync(new StreamRow(Key(status.FetchId), status.State.ToString())
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
            FailbackSlot = status.FailbackSlot,
        }, cancellationToken).ConfigureAwait(false);
    }

    private static string Name(ReplicationDirection direction) => direction == ReplicationDirection.Failback ? "Failback" : "Replication";

    private static (string FetchId, ReplicationDirection Direction) ParseKey(string key) =>
        key.StartsWith(FailbackKeyPrefix, StringComparison.Ordinal) ? (key[FailbackKeyPrefix.Length..], ReplicationDirection.Failback) : (key, ReplicationDirection.Forward);

    /// <summary>
    /// A stream's claim, which the stream renews as it polls for stop requests: the lease lives in one target session, so
    /// a target restart or a lost connection ends it while the stream goes on, and without it a Stop-MoltReplication would
    /// find the stream not running and a second Resume would be let in.
    /// </summary>
    private sealed class StreamClaim(PgWireReplicationControl control, string fetchId, RunLease lease) : IAsyncDisposable
    {
        private RunLease? lease = lease;

        public async Task RenewAsync(CancellationToken cancellationToken)
        {
            if (lease is not null && await lease.IsAliveAsync(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (lease is not null)
            {
                await lease.DisposeAsync().ConfigureAwait(false);
                lease = null;
            }

            lease = await control.AcquireAsync(fetchId, cancellationToken).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            lock (control.claims)
            {
                control.claims.Remove(fetchId);
            }

            if (lease is not null)
            {
                await lease.DisposeAsync().ConfigureAwait(false);
                lease = null;
            }
        }
    }

    private static SourcePosition? Position(string? notation, string? text) => notation is not null && text is not null ? SourcePosition.Parse(notation, text) : null;

    private string Key(string fetchId) => StreamKey(fetchId, direction);

    private Task<bool> IsRunningAsync(string fetchId, ReplicationDirection of, CancellationToken cancellationToken) =>
        RunLease.IsHeldAsync(target, leaseKind, LeaseName(fetchId, of), cancellationToken);

    private async Task<string> HolderAsync(string fetchId, ReplicationDirection of, CancellationToken cancellationToken) =>
        (await state.ReadStreamsAsync(StreamKey(fetchId, of), cancellationToken).ConfigureAwait(false)) is [var stream, ..] ? stream.HeldBy ?? "another session" : "another session";
}
