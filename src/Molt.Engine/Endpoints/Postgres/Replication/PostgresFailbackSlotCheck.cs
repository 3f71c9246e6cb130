using Molt.Engine.Checks;
using Molt.Engine.Endpoints.PgWire;
using Npgsql;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// <c>Test-MoltConnection -For Failback -FetchId</c> on a PostgreSQL target: the failback slot the cutover made (see
/// <see cref="PostgresFailbackAnchor"/>) is there, in this database, with the publication of its name, and has not lost
/// the WAL failback starts from. Once it exists failback needs no further slot, so a target without a free one passes.
/// </summary>
internal static class PostgresFailbackSlotCheck
{
    private const string Check = "FailbackSlot";

    internal const string SlotSql = """
        SELECT s.database, s.plugin, s.active, s.wal_status, s.confirmed_flush_lsn::text, p.pubname IS NOT NULL
        FROM pg_replication_slots s LEFT JOIN pg_publication p ON p.pubname = s.slot_name
        WHERE s.slot_name = $1 AND s.slot_type = 'logical'
        """;

    public static async Task<IReadOnlyList<PrerequisiteCheck>> CheckAsync(EndpointAddress address, string slot, IReadOnlyList<PrerequisiteCheck> checks,
        CancellationToken cancellationToken)
    {
        const EndpointRole role = EndpointRole.Target;
        var missingRemedy = "Forward replication makes it when Stop-MoltReplication stops it at the cutover on a target with wal_level = logical (its " +
                            "warning says why it could not). Without it, load the tables back into the original source instead (Start-MoltBulkLoad from the target).";
        await using var connection = await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(SlotSql, connection) { Parameters = { new NpgsqlParameter { Value = slot } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        PrerequisiteCheck result;
        var exists = false;
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result = PrerequisiteCheck.Fail(role, address, Check, $"the target has no logical replication slot '{slot}'", missingRemedy);
        }
        else if (reader.GetString(0) != connection.Database)
        {
            result = PrerequisiteCheck.Fail(role, address, Check, $"slot '{slot}' belongs to database '{reader.GetString(0)}', not '{connection.Database}'",
                "Name the database the migration loaded (the slot's) as the target.");
        }
        else if (!reader.IsDBNull(3) && reader.GetString(3) == "lost")
        {
            result = PrerequisiteCheck.Fail(role, address, Check, $"slot '{slot}' lost WAL it still needed (wal_status = lost): the changes since the cutover cannot be read",
                "Load the tables back into the original source instead (Start-MoltBulkLoad from the target); next time raise max_slot_wal_keep_size.");
        }
        else if (!reader.GetBoolean(5))
        {
            result = PrerequisiteCheck.Fail(role, address, Check, $"slot '{slot}' exists but the publication '{slot}' it reads does not",
                $"Recreate it with the migrated tables (CREATE PUBLICATION \"{slot}\" FOR TABLE ...; the slot decodes only what is published after that).");
        }
        else
        {
            exists = true;
            result = PrerequisiteCheck.Pass(role, address, Check,
                $"slot '{slot}' ({reader.GetString(1)}) holds the target's changes from {reader.GetString(4)} on" + (reader.GetBoolean(2) ? "; a failback reads it now" : ""));
        }

        // The free-slot check is for the slot the cutover makes: with it made, failback needs none.
        return [.. checks.Select(c => exists && c is { Check: "ReplicationSlots", Passed: false }
            ? PrerequisiteCheck.Pass(role, address, c.Check, $"{c.Detail}; none needed, failback reads slot '{slot}'") : c), result];
    }
}
