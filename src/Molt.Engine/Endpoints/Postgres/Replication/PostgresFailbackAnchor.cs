using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// The target position of a forward stream into PostgreSQL, and at its cutover the slot failback reads. A bare
/// pg_current_wal_lsn is not enough there: a logical slot decodes nothing older than itself, so a slot made only when
/// Invoke-MoltFailback starts would miss what the application wrote between the cutover and then. So when the stream
/// stops for a stop request (the cutover) on a target with wal_level = logical, the failback publication of the
/// migrated tables is made and then the failback slot (dropped first when an earlier cutover left one), and the slot's
/// consistent point is the target position: everything Molt applied committed before it, everything the application
/// writes from then on is decoded after it. The slot keeps the target's WAL until Remove-MoltReplication drops it. A
/// target that cannot have the slot (wal_level, privileges, max_replication_slots, a table without a replica identity)
/// still stops cleanly, with its bare position and a warning saying why failback cannot start from it.
/// </summary>
internal sealed class PostgresFailbackAnchor(NpgsqlDataSource target, ITargetPosition position) : ITargetPosition
{
    public Task<SourcePosition> ReadAsync(CancellationToken cancellationToken) => position.ReadAsync(cancellationToken);

    public async Task<TargetAnchor> AnchorAsync(string fetchId, IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken)
    {
        var name = PostgresPublication.FailbackName(fetchId);
        try
        {
            await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (var walLevel = new NpgsqlCommand("SELECT current_setting('wal_level')", connection))
            {
                if ((string)(await walLevel.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! != "logical")
                {
                    return new TargetAnchor(await position.ReadAsync(cancellationToken).ConfigureAwait(false), null,
                        "the target's wal_level is not logical, so no failback slot was made; set wal_level = logical on the target before the cutover.");
                }
            }

            var targets = plans.Select(p => p.Target).ToHashSet();
            var tables = (await new PostgresCatalogReader(target).ReadTablesAsync(TableFilter.Of(targets), cancellationToken).ConfigureAwait(false))
                .Where(t => targets.Contains(t.Name)).ToList();
            // Dropped and made again: the publication must predate the slot, and the slot must start at this cutover.
            await PostgresPublication.DropAsync(connection, name, name, cancellationToken).ConfigureAwait(false);
            await PostgresPublication.EnsureAsync(connection, name, tables, cancellationToken).ConfigureAwait(false);
            await using var create = new NpgsqlCommand("SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')", connection)
            {
                Parameters = { new NpgsqlParameter { Value = name } },
            };
            var consistentPoint = (string)(await create.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            return new TargetAnchor(PostgresLsn.Parse(consistentPoint), name);
        }
        catch (Exception ex) when (ex is PostgresException or MoltException)
        {
            return new TargetAnchor(await position.ReadAsync(cancellationToken).ConfigureAwait(false), null,
                $"the failback slot '{name}' could not be made on the target: {ex.Message}");
        }
    }
}
