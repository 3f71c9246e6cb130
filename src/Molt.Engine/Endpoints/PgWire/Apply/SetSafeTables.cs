using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// Which planned tables the applier may write as a net effect (<see cref="TableNetChanges"/>), read from the target's own
/// catalog, since the target may have constraints and triggers the plan does not know of. A table is set-safe when its
/// rows are named by the primary key the upsert conflicts on and nothing else on the target can tell one order of its
/// changes from another: no foreign key in or out (whichever table is at the other end, planned or not), no unique or
/// exclusion constraint and no unique index besides the primary key, and no trigger of the user's (Molt's own ON
/// UPDATE triggers do nothing while Molt writes, <see cref="Postgres.PostgresSessionSettings"/>).
/// </summary>
internal static class SetSafeTables
{
    /// <summary>
    /// What keeps each target table off the set path. pg_constraint, pg_index, pg_trigger, pg_proc, pg_class and
    /// pg_namespace are among the catalogs CockroachDB serves too (https://www.cockroachlabs.com/docs/stable/pg-catalog),
    /// where a UNIQUE WITHOUT INDEX constraint shows as contype 'u' with no index; the internal triggers are PostgreSQL's
    /// own for foreign keys, already counted as such.
    /// </summary>
    private const string Obstacles = """
        SELECT schema_name, table_name, obstacle FROM (
        SELECT n.nspname::text AS schema_name, c.relname::text AS table_name, 'foreign key ' || k.conname::text AS obstacle
        FROM pg_catalog.pg_constraint k
        JOIN pg_catalog.pg_class c ON c.oid = k.conrelid OR c.oid = k.confrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE k.contype = 'f'
        UNION ALL
        SELECT n.nspname::text, c.relname::text, 'constraint ' || k.conname::text
        FROM pg_catalog.pg_constraint k
        JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE k.contype IN ('u', 'x')
        UNION ALL
        SELECT n.nspname::text, c.relname::text, 'unique index ' || x.relname::text
        FROM pg_catalog.pg_index i
        JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
        JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE i.indisunique AND NOT i.indisprimary
        UNION ALL
        SELECT n.nspname::text, c.relname::text, 'trigger ' || t.tgname::text
        FROM pg_catalog.pg_trigger t
        JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
        WHERE NOT t.tgisinternal AND coalesce(strpos(p.prosrc, 'molt.writing'), 0) = 0
        ) o
        WHERE schema_name = ANY(@schemas)
        """;

    /// <summary>For each planned table (by its source name) that is not set-safe, why: the first obstacle found.</summary>
    public static async Task<IReadOnlyDictionary<TableName, string>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken)
    {
        var found = new Dictionary<TableName, string>();
        await using (var command = new NpgsqlCommand(Obstacles, connection, transaction))
        {
            command.Parameters.AddWithValue("schemas", plans.Select(p => p.Target.Schema).Distinct().ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found.TryAdd(new TableName(reader.GetString(0), reader.GetString(1)), reader.GetString(2));
            }
        }

        var blocked = new Dictionary<TableName, string>();
        foreach (var plan in plans)
        {
            if (found.TryGetValue(plan.Target, out var obstacle))
            {
                blocked[plan.Source.Name] = obstacle;
            }
            else if (plan.PrimaryKey.Count == 0)
            {
                blocked[plan.Source.Name] = "no primary key";
            }
        }

        return blocked;
    }
}
