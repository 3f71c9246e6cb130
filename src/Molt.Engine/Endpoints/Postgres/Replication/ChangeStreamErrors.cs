using System.Net.Sockets;
using Molt.Engine.Replication;
using Npgsql;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// Classifies what reading a replication slot can fail with: a lost connection or a restarting server is
/// <see cref="TransientSourceException"/> (start again from the checkpoint); a missing, busy or invalidated slot or a
/// missing publication is a <see cref="MoltException"/> naming it and what to do.
/// </summary>
internal static class ChangeStreamErrors
{
    /// <summary>The exception to throw instead of <paramref name="exception"/>, or null to let it pass as it is.</summary>
    public static Exception? Translate(Exception exception, string slot, string publication, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case MoltException or TransientSourceException:
                return null;
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return null;
            case PostgresException { SqlState: PostgresErrorCodes.UndefinedObject } pg when pg.MessageText.Contains("publication", StringComparison.Ordinal):
                return new MoltException(MoltErrorKind.NotFound, "PublicationNotFound",
                    $"The source cannot decode changes for the publication '{publication}': {pg.MessageText}.",
                    "PostgreSQL before 18 cannot decode changes made before the publication existed (create it before the slot), " +
                    "and a dropped publication cannot be decoded at all: remove the replication (Remove-MoltReplication) and start it again.", pg)
                { Target = publication };
            case PostgresException { SqlState: PostgresErrorCodes.UndefinedObject } pg:
                return MissingSlot(slot, pg);
            case PostgresException { SqlState: PostgresErrorCodes.ObjectInUse } pg:
                return new MoltException(MoltErrorKind.InUse, "ReplicationSlotInUse", $"The replication slot '{slot}' is read by another session: {pg.MessageText}.",
                    "Only one stream can read a slot: stop the other replication (Stop-MoltReplication) or wait for it to end.", pg) { Target = slot };
            case PostgresException { SqlState: PostgresErrorCodes.ObjectNotInPrerequisiteState } pg:
                return new MoltException(MoltErrorKind.InvalidState, "ReplicationSlotUnusable", $"The replication slot '{slot}' can no longer be read: {pg.MessageText}.",
                    "The source released WAL the slot still needed (max_slot_wal_keep_size) or the slot was invalidated: changes since the checkpoint are lost. " +
                    "Remove the replication (Remove-MoltReplication) and start it again with a new load.", pg) { Target = slot };
            case PostgresException pg when IsTransient(pg):
                return new TransientSourceException($"The source stopped the replication stream of slot '{slot}': {pg.MessageText}", pg);
            case PostgresException pg:
                return new MoltException(MoltErrorKind.InvalidState, "ChangeStreamFailed", $"Reading changes from the replication slot '{slot}' failed: {pg.MessageText}",
                    null, pg) { Target = slot };
            case NpgsqlException or IOException or SocketException or TimeoutException or EndOfStreamException:
                return new TransientSourceException($"The connection reading the replication slot '{slot}' was lost: {exception.Message}", exception);
            default:
                return null;
        }
    }

    public static MoltException MissingSlot(string slot, Exception? inner = null) =>
        new(MoltErrorKind.NotFound, "ReplicationSlotNotFound", $"The replication slot '{slot}' does not exist on the source database.",
            "It was dropped, or never created on this database: changes since the checkpoint cannot be read. Start the replication again " +
            "(Start-MoltReplication, or Start-MoltBulkLoad -ReplicationSlot and then Resume-MoltReplication).", inner)
        { Target = slot };

    // Shutdown, crash recovery, a server still starting, too many connections, or any connection-class error.
    private static bool IsTransient(PostgresException exception) =>
        exception.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
            or PostgresErrorCodes.TooManyConnections
        || exception.SqlState.StartsWith("08", StringComparison.Ordinal);
}
