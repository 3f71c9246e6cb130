using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Npgsql;
using static Molt.Engine.Endpoints.PgWire.PgWireSyntax;

namespace Molt.Engine.Endpoints.Postgres;

/// <summary>
/// PostgreSQL's own record of what depends on what: pg_constraint for the foreign keys TRUNCATE follows, pg_depend for
/// everything DROP TABLE ... CASCADE removes. Both list objects whatever their owner, unlike information_schema.
/// </summary>
internal sealed class PostgresTargetDependents : ITargetDependents
{
    /// <summary>
    /// Follows pg_depend from the selected tables the way DROP does: dependents go with the object they depend on (a
    /// normal dependency is what needs CASCADE), and an object goes when an internal part of it goes (a view, when the
    /// rule that reads a dropped table goes). What is reached only through a normal dependency is outside the
    /// selection; of that, what is itself a part of another such object (a view's rule and row type, a foreign key's
    /// triggers) is named by that object. A column is followed as a column (a dropped row type takes a column of
    /// another table, not the table).
    /// </summary>
    private const string DroppedSql = """
        WITH RECURSIVE selected AS (
            SELECT c.oid FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN unnest($1::text[], $2::text[]) AS s(schema_name, table_name) ON n.nspname = s.schema_name AND c.relname = s.table_name
            WHERE c.relkind IN ('r', 'p')
        ),
        edges AS (
            SELECT refclassid AS from_class, refobjid AS from_id, refobjsubid AS from_sub, classid AS to_class, objid AS to_id, objsubid AS to_sub,
                   deptype = 'n' AS needs_cascade
            FROM pg_depend WHERE deptype IN ('n', 'a', 'i')
            UNION ALL
            SELECT classid, objid, objsubid, refclassid, refobjid, refobjsubid, false FROM pg_depend WHERE deptype = 'i'
        ),
        dropped(class_id, object_id, sub_id, cascaded) AS (
            SELECT 'pg_class'::regclass::oid, oid, 0, false FROM selected
            UNION
            SELECT e.to_class, e.to_id, e.to_sub, d.cascaded OR e.needs_cascade
            FROM dropped d JOIN edges e ON e.from_class = d.class_id AND e.from_id = d.object_id AND (d.sub_id = 0 OR e.from_sub = d.sub_id)
        ),
        cascaded AS (
            SELECT class_id, object_id, sub_id FROM dropped GROUP BY class_id, object_id, sub_id HAVING bool_and(cascaded)
        )
        SELECT CASE WHEN r.relkind = 'v' THEN 'view' WHEN r.relkind = 'm' THEN 'materialized view' WHEN k.oid IS NOT NULL THEN 'foreign key' END,
               coalesce(rn.nspname, kn.nspname)::text, coalesce(r.relname::text, k.conname::text), kr.relname::text,
               pg_describe_object(x.class_id, x.object_id, x.sub_id)
        FROM cascaded x
        LEFT JOIN pg_class r ON x.class_id = 'pg_class'::regclass AND x.sub_id = 0 AND r.oid = x.object_id AND r.relkind IN ('v', 'm')
        LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
        LEFT JOIN pg_constraint k ON x.class_id = 'pg_constraint'::regclass AND k.oid = x.object_id AND k.contype = 'f'
        LEFT JOIN pg_class kr ON kr.oid = k.conrelid
        LEFT JOIN pg_namespace kn ON kn.oid = kr.relnamespace
        WHERE NOT EXISTS (
            SELECT 1 FROM pg_depend part
            JOIN cascaded owner ON owner.class_id = part.refclassid AND owner.object_id = part.refobjid AND owner.sub_id IN (0, part.refobjsubid)
            WHERE part.classid = x.class_id AND part.objid = x.object_id AND part.objsubid = x.sub_id AND part.deptype IN ('a', 'i'))
        ORDER BY 5
        """;

    /// <summary>Every foreign key once: a partition's copy of its parent's key is left out (TRUNCATE empties partitions with their parent).</summary>
    private const string ForeignKeysSql = """
        SELECT tn.nspname::text, t.relname::text, k.conname::text, rn.nspname::text, r.relname::text
        FROM pg_constraint k
        JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
        JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
        WHERE k.contype = 'f' AND k.conparentid = 0
        """;

    public string? UnlistedDropDependents => null;

    public async Task<IReadOnlyList<TargetDependent>> TruncatedWithAsync(NpgsqlConnection connection, IReadOnlyCollection<TableName> tables,
        CancellationToken cancellationToken) =>
        ForeignKeyReference.TruncatedWith(await ForeignKeyReference.ReadAsync(connection, ForeignKeysSql, cancellationToken).ConfigureAwait(false), tables);

    public async Task<IReadOnlyList<TargetDependent>> DroppedWithAsync(NpgsqlConnection connection, IReadOnlyCollection<TableName> tables,
        CancellationToken cancellationToken)
    {
        var dependents = new List<TargetDependent>();
        await using var command = new NpgsqlCommand(DroppedSql, connection)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = tables.Select(t => t.Schema).ToArray() },
                new NpgsqlParameter { Value = tables.Select(t => t.Name).ToArray() },
            },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var kind = reader.IsDBNull(0) ? null : reader.GetString(0);
            dependents.Add(new TargetDependent(kind switch
            {
                "foreign key" => $"foreign key {Quote(reader.GetString(2))} of {Quote(new TableName(reader.GetString(1), reader.GetString(3)))}",
                "view" or "materialized view" => $"{kind} {Quote(new TableName(reader.GetString(1), reader.GetString(2)))}",
                _ => reader.GetString(4),
            }));
        }

        return dependents;
    }
}
