using Molt.Engine.Schema;
using Npgsql;
using static Molt.Engine.Endpoints.PgWire.PgWireSyntax;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// How PostgreSQL identifies one table's rows in its change stream (pg_class.relreplident): the primary key (DEFAULT), a
/// unique index (USING INDEX), the whole old row (FULL), or nothing. <see cref="KeyColumns"/> are the columns the stream's
/// changes are matched by on the target.
/// </summary>
internal sealed record ReplicaIdentity(TableName Table, char Setting, IReadOnlyList<string> KeyColumns)
{
    public const char Default = 'd';
    public const char Index = 'i';
    public const char Full = 'f';
    public const char Nothing = 'n';

    /// <summary>True when rows are matched by every column: FULL on a table without a primary key.</summary>
    public bool MatchesByAllColumns { get; init; }

    /// <summary>For a partitioned table: the partitions that have no replica identity of their own.</summary>
    public IReadOnlyList<TableName> UnidentifiablePartitions { get; init; } = [];

    /// <summary>Whether UPDATE and DELETE can be replicated: without an identity PostgreSQL refuses them on the source itself.</summary>
    public bool CanIdentifyRows => KeyColumns.Count > 0 && UnidentifiablePartitions.Count == 0;

    /// <summary>
    /// Reads the identity of each table: DEFAULT is the primary key, USING INDEX that index's columns (an identity index
    /// since dropped leaves none), FULL the primary key where there is one, else every copied column.
    /// </summary>
    /// <exception cref="MoltException">A table does not exist on the source.</exception>
    public static async Task<IReadOnlyList<ReplicaIdentity>> ReadAsync(NpgsqlConnection connection, IReadOnlyList<TableModel> tables,
        CancellationToken cancellationToken)
    {
        // A partition's identity is its own (REPLICA IDENTITY on the parent does not reach existing partitions), and an
        // update of a partition without one fails on the source once the parent is published.
        const string IdentifiableLeaf = """
            (l.relreplident = 'f'
             OR (l.relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = l.oid AND i.indisprimary))
             OR (l.relreplident = 'i' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = l.oid AND i.indisreplident)))
            """;
        const string sql = $$"""
            SELECT q.ord, c.relreplident,
                   ARRAY(SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(num, pos)
                         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.num
                         WHERE i.indrelid = c.oid AND i.indisreplident ORDER BY k.pos),
                   ARRAY(SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(num, pos)
                         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.num
                         WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.pos),
                   ARRAY(SELECT ln.nspname FROM pg_partition_tree(c.oid) p JOIN pg_class l ON l.oid = p.relid JOIN pg_namespace ln ON ln.oid = l.relnamespace
                         WHERE p.isleaf AND l.oid <> c.oid AND NOT {{IdentifiableLeaf}} ORDER BY ln.nspname, l.relname),
                   ARRAY(SELECT l.relname FROM pg_partition_tree(c.oid) p JOIN pg_class l ON l.oid = p.relid JOIN pg_namespace ln ON ln.oid = l.relnamespace
                         WHERE p.isleaf AND l.oid <> c.oid AND NOT {{IdentifiableLeaf}} ORDER BY ln.nspname, l.relname)
            FROM unnest($1::text[], $2::text[]) WITH ORDINALITY q(nspname, relname, ord)
            JOIN pg_namespace n ON n.nspname = q.nspname
            JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = q.relname AND c.relkind IN ('r', 'p')
            """;
        await using var command = new NpgsqlCommand(sql, connection)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = tables.Select(t => t.Name.Schema).ToArray() },
                new NpgsqlParameter { Value = tables.Select(t => t.Name.Name).ToArray() },
            },
        };
        var found = new ReplicaIdentity?[tables.Count];
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var index = (int)reader.GetInt64(0) - 1;
                var partitions = reader.GetFieldValue<string[]>(4).Zip(reader.GetFieldValue<string[]>(5), (schema, name) => new TableName(schema, name)).ToList();
                found[index] = Of(tables[index], reader.GetChar(1), reader.GetFieldValue<string[]>(2), reader.GetFieldValue<string[]>(3)) with
                {
                    UnidentifiablePartitions = partitions,
                };
            }
        }

        var missing = tables.Where((_, i) => found[i] is null).Select(t => t.Name.ToString()).ToList();
        if (missing.Count > 0)
        {
            throw new MoltException(MoltErrorKind.NotFound, "ReplicatedTableNotFound",
                $"The source has no table {string.Join(", ", missing)} any more.",
                "Replicate only tables that exist: run the load again with the current tables.");
        }

        return found!;
    }

    /// <summary>Refuses tables whose updates and deletes PostgreSQL cannot identify, naming each and the statement that fixes it.</summary>
    /// <exception cref="MoltException">One or more tables have neither a primary key nor REPLICA IDENTITY FULL (or a usable identity index).</exception>
    public static void RequireIdentifiable(IReadOnlyList<ReplicaIdentity> identities)
    {
        var unidentifiable = identities.Where(i => !i.CanIdentifyRows).ToList();
        if (unidentifiable.Count == 0)
        {
            return;
        }

        var fixes = string.Join(" ", unidentifiable
            .SelectMany(i => (i.KeyColumns.Count == 0 ? [i.Table] : Array.Empty<TableName>()).Concat(i.UnidentifiablePartitions))
            .Select(t => $"ALTER TABLE {Quote(t)} REPLICA IDENTITY FULL;"));
        throw new MoltException(MoltErrorKind.InvalidState, "NoReplicaIdentity",
            $"{(unidentifiable.Count == 1 ? "The table" : "The tables")} {string.Join(", ", unidentifiable.Select(i => i.Table))} " +
            $"{(unidentifiable.Count == 1 ? "has" : "have")} no primary key and no REPLICA IDENTITY FULL (or a partition of it has none), so PostgreSQL cannot say which row an " +
            "update or delete changed (it refuses them on the source once the table is published).",
            $"Add a primary key, or let rows be matched by all their columns: {fixes}")
        { Target = unidentifiable[0].Table.ToString() };
    }

    private static ReplicaIdentity Of(TableModel table, char setting, string[] indexColumns, string[] primaryKey) => setting switch
    {
        Default => new ReplicaIdentity(table.Name, setting, primaryKey),
        Index => new ReplicaIdentity(table.Name, setting, indexColumns),
        Full when primaryKey.Length > 0 => new ReplicaIdentity(table.Name, setting, primaryKey),
        Full => new ReplicaIdentity(table.Name, setting, table.CopiedColumns.Select(c => c.Name).ToList()) { MatchesByAllColumns = true },
        _ => new ReplicaIdentity(table.Name, setting, []),
    };
}
