using Molt.Engine.Checks;
using Molt.Engine.Endpoints;
using Molt.Engine.Replication;

namespace Molt.Engine.Sessions;

/// <summary>
/// What <c>Test-MoltConnection -For Failback -FetchId</c> adds on the migration target: that failback of that FetchId could
/// start now (its forward stream stopped at the cutover with a target position, as <see cref="FailbackSession"/>
/// requires), and what the database keeps for it (a PostgreSQL target: the failback slot; a CockroachDB target: the row
/// versions since where failback starts, its checkpoint or else the cutover's HLC, within gc.ttlseconds).
/// </summary>
internal static class FailbackReadiness
{
    public static async Task<ConnectionReport> AddAsync(EndpointAddress target, ConnectionReport report, string fetchId, CancellationToken cancellationToken)
    {
        const EndpointRole role = EndpointRole.Target;
        ReplicationStatus? forward;
        ReplicationStatus? failback;
        try
        {
            var statuses = await ReplicationControl.ReadStatusAsync(target, fetchId, cancellationToken).ConfigureAwait(false);
            forward = statuses.FirstOrDefault(s => s.Direction == ReplicationDirection.Forward);
            failback = statuses.FirstOrDefault(s => s.Direction == ReplicationDirection.Failback);
        }
        catch (MoltException ex)
        {
            return report with
            {
                Checks = [.. report.Checks, PrerequisiteCheck.Fail(role, target, "FailbackStart", $"could not read replication '{fetchId}': {ex.Message}", ex.Remedy ?? "")],
            };
        }

        var start = forward switch
        {
            null => PrerequisiteCheck.Fail(role, target, "FailbackStart", $"the target records no replication '{fetchId}'",
                "Name the FetchId of the replication that migrated the tables (Get-MoltReplicationStatus lists them), or start failback with -StartAt."),
            { State: not ReplicationState.Stopped } => PrerequisiteCheck.Fail(role, target, "FailbackStart",
                $"replication '{fetchId}' is {forward.State}, not stopped: failback would send its changes back",
                $"Stop it at the cutover first (Stop-MoltReplication -FetchId '{fetchId}')."),
            { TargetPosition: null } => PrerequisiteCheck.Fail(role, target, "FailbackStart", $"replication '{fetchId}' recorded no target position when it stopped",
                "Start failback with -StartAt <target position>."),
            _ => PrerequisiteCheck.Pass(role, target, "FailbackStart",
                $"replication '{fetchId}' stopped at the cutover; failback starts after target position {forward.TargetPosition}"),
        };
        // A failback that ran resumes from its checkpoint (the target keeps a copy of it); a first one from the cutover's position.
        var from = failback?.SourcePosition ?? (forward is { State: ReplicationState.Stopped } ? forward.TargetPosition : null);
        var checks = await DatabaseRegistry.CheckFailbackSlotAsync(target, fetchId, forward?.FailbackSlot, from, [.. report.Checks, start], cancellationToken)
            .ConfigureAwait(false);
        return report with { Checks = checks };
    }
}
