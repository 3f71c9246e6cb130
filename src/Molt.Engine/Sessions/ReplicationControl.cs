using Molt.Engine.Endpoints;
using Molt.Engine.Replication;

namespace Molt.Engine.Sessions;

/// <summary>
/// What is done to a stream from anywhere, through the target alone: asking it to stop (the cutover step), waiting for it
/// to stop, reading its status, and removing it with its source slot.
/// </summary>
public static class ReplicationControl
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    // Several stop polls of a stream (one a second), on a loaded machine.
    private static readonly TimeSpan ClaimRetakeGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Asks the running stream to stop: at the next commit (<paramref name="immediately"/>), or, by default, once it has
    /// applied everything the source committed up to its end at the moment the stream reads the request.
    /// </summary>
    /// <exception cref="MoltException"><c>ReplicationNotFound</c>; <c>ReplicationNotRunning</c> (nothing is recorded then).</exception>
    public static Task RequestStopAsync(EndpointAddress target, string fetchId, bool immediately, CancellationToken cancellationToken) =>
        RequestStopAsync(target, fetchId, immediately, ReplicationDirection.Forward, cancellationToken);

    /// <summary>As <see cref="RequestStopAsync(EndpointAddress, string, bool, CancellationToken)"/>, for the stream of <paramref name="direction"/>.</summary>
    public static async Task RequestStopAsync(EndpointAddress target, string fetchId, bool immediately, ReplicationDirection direction,
        CancellationToken cancellationToken)
    {
        var (dataSource, control) = await DatabaseRegistry.OpenReplicationControlAsync(target, direction, cancellationToken).ConfigureAwait(false);
        await using (dataSource.ConfigureAwait(false))
        {
            var status = await RequireAsync(control, fetchId, cancellationToken).ConfigureAwait(false);
            if (!await IsRunningAsync(control, fetchId, status, cancellationToken).ConfigureAwait(false))
            {
                throw new MoltException(MoltErrorKind.InvalidState, "ReplicationNotRunning",
                    $"{Name(direction)} '{fetchId}' is not running (its last state: {status.State}), so there is nothing to stop.",
                    $"Get-MoltReplicationStatus shows where it stands; {Continue(direction)} -StopWhenCaughtUp drains it.") { Target = fetchId };
            }

            await control.RequestStopAsync(fetchId, immediately, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether a session runs the stream. A stream whose target connection was lost holds no claim until it claims again at
    /// its next stop poll (about a second), and reads as failed meanwhile: unless it stopped, it is asked again for a
    /// few seconds before the stop is refused.
    /// </summary>
    private static async Task<bool> IsRunningAsync(Endpoints.PgWire.PgWireReplicationControl control, string fetchId, ReplicationStatus status, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + (status.State == ReplicationState.Stopped ? TimeSpan.Zero : ClaimRetakeGrace);
        while (true)
        {
            if (await control.IsRunningAsync(fetchId, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            if (DateTimeOffset.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the stream to stop and returns its final status (with the target's position where it stopped).</summary>
    /// <exception cref="MoltException"><c>ReplicationStopTimeout</c>: still running after <paramref name="timeout"/> (the request stays recorded).</exception>
    public static Task<ReplicationStatus> WaitForStopAsync(EndpointAddress target, string fetchId, TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitForStopAsync(target, fetchId, timeout, ReplicationDirection.Forward, cancellationToken);

    /// <summary>As <see cref="WaitForStopAsync(EndpointAddress, string, TimeSpan, CancellationToken)"/>, for the stream of <paramref name="direction"/>.</summary>
    public static async Task<ReplicationStatus> WaitForStopAsync(EndpointAddress target, string fetchId, TimeSpan timeout, ReplicationDirection direction,
        CancellationToken cancellationToken)
    {
        var (dataSource, control) = await DatabaseRegistry.OpenReplicationControlAsync(target, direction, cancellationToken).ConfigureAwait(false);
        await using (dataSource.ConfigureAwait(false))
        {
            var deadline = DateTimeOffset.UtcNow + timeout;
            while (true)
            {
                var status = await RequireAsync(control, fetchId, cancellationToken).ConfigureAwait(false);
                if (status.State is ReplicationState.Stopped or ReplicationState.Failed)
                {
                    return status;
                }

                if (DateTimeOffset.UtcNow >= deadline)
                {
                    throw new MoltException(MoltErrorKind.InvalidState, "ReplicationStopTimeout",
                        $"{Name(direction)} '{fetchId}' was still {status.State} after {timeout}: it is draining to {status.StopAt?.ToString() ?? "the next commit"}, " +
                        $"{status.LagBytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} bytes behind.",
                        "Wait longer (-Timeout), or check that writes to the source have stopped; the stop request stays recorded.") { Target = fetchId };
                }

                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Every stream recorded on the target (<paramref name="fetchId"/> null) or one; empty when there is none.</summary>
    public static async Task<IReadOnlyList<ReplicationStatus>> ReadStatusAsync(EndpointAddress target, string? fetchId, CancellationToken cancellationToken)
    {
        var (dataSource, control) = await DatabaseRegistry.OpenReplicationControlAsync(target, cancellationToken).ConfigureAwait(false);
        await using (dataSource.ConfigureAwait(false))
        {
            return await control.ReadStatusesAsync(fetchId, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Refuses a FetchId the target records neither a stream nor a load of (a Start-MoltBulkLoad -ReplicationSlot load
    /// has a slot to remove and no stream yet), before anything is claimed or dropped.
    /// </summary>
    /// <exception cref="MoltException"><c>ReplicationNotFound</c>.</exception>
    public static async Task RequireRecordedAsync(EndpointAddress target, string fetchId, CancellationToken cancellationToken)
    {
        var (dataSource, control) = await DatabaseRegistry.OpenReplicationControlAsync(target, cancellationToken).ConfigureAwait(false);
        await using (dataSource.ConfigureAwait(false))
        {
            await RequireRecordedAsync(dataSource, control, target, fetchId, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task RequireRecordedAsync(Npgsql.NpgsqlDataSource dataSource, Endpoints.PgWire.PgWireReplicationControl control, EndpointAddress target,
        string fetchId, CancellationToken cancellationToken)
    {
        if (await control.ReadStatusAsync(fetchId, cancellationToken).ConfigureAwait(false) is null
            && await new State.LoadStateStore(dataSource).FindRunAsync(fetchId, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new MoltException(MoltErrorKind.NotFound, "ReplicationNotFound",
                $"The target {target.Display} has no replication or load with id '{fetchId}': there is nothing to remove.",
                $"Get-MoltReplicationStatus -Target '{target.Display}' lists the FetchIds of the replications recorded there.") { Target = fetchId };
        }
    }

    /// <summary>
    /// Drops the stream's slot and publication on the source (so the source stops keeping log for it) and marks the stream
    /// ended. <paramref name="slot"/> and <paramref name="publication"/> default to the recorded slot and the default names.
    /// </summary>
    /// <exception cref="MoltException"><c>ReplicationNotFound</c>: nothing of that id is recorded (nothing is dropped);
    /// <c>ReplicationStreamActive</c>: the stream is running (stop it first).</exception>
    public static async Task<(bool SlotDropped, bool PublicationDropped)> RemoveAsync(EndpointAddress source, EndpointAddress target, string fetchId,
        string? slot, string? publication, CancellationToken cancellationToken)
    {
        var (dataSource, control) = await DatabaseRegistry.OpenReplicationControlAsync(target, cancellationToken).ConfigureAwait(false);
        await using (dataSource.ConfigureAwait(false))
        {
            // Before the claim, which creates the state tables: an unknown id leaves the target as it was.
            await RequireRecordedAsync(dataSource, control, target, fetchId, cancellationToken).ConfigureAwait(false);
            // Holding the claim while dropping keeps a Resume from starting meanwhile.
            await using var claim = await control.ClaimAsync(fetchId, cancellationToken).ConfigureAwait(false);
            var recorded = await control.ReadStatusAsync(fetchId, cancellationToken).ConfigureAwait(false);
            var replication = await DatabaseRegistry.OpenReplicationSourceAsync(source, fetchId, slot ?? recorded?.Slot, publication, cancellationToken)
                .ConfigureAwait(false);
            await using (replication.Source.ConfigureAwait(false))
            {
                var dropped = await replication.RemoveAsync(cancellationToken).ConfigureAwait(false);
                if (recorded?.FailbackSlot is { } failbackSlot)
                {
                    // The cutover's slot on the target keeps the target's WAL as long as the source's slot keeps the source's.
                    await DatabaseRegistry.RemoveFailbackSlotAsync(target, failbackSlot, cancellationToken).ConfigureAwait(false);
                    await control.For(ReplicationDirection.Failback).MarkRemovedAsync(fetchId, cancellationToken).ConfigureAwait(false);
                }

                await control.MarkRemovedAsync(fetchId, cancellationToken).ConfigureAwait(false);
                return dropped;
            }
        }
    }

    private static async Task<ReplicationStatus> RequireAsync(Endpoints.PgWire.PgWireReplicationControl control, string fetchId, CancellationToken cancellationToken) =>
        await control.ReadStatusAsync(fetchId, cancellationToken).ConfigureAwait(false)
        ?? throw new MoltException(MoltErrorKind.NotFound, "ReplicationNotFound", $"The target has no {Name(control.Direction).ToLowerInvariant()} with id '{fetchId}'.",
            "Get-MoltReplicationStatus lists the streams recorded in the target.") { Target = fetchId };

    private static string Name(ReplicationDirection direction) => direction == ReplicationDirection.Failback ? "Failback" : "Replication";

    private static string Continue(ReplicationDirection direction) => direction == ReplicationDirection.Failback ? "Invoke-MoltFailback" : "Resume-MoltReplication";
}
