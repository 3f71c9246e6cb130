using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Endpoints.Postgres;

/// <summary>
/// Reads tables from PostgreSQL's catalog (pg_catalog, not information_schema, which hides arrays, domains and
/// partitioning). A partitioned table is one table read through its parent; its partitions are not listed.
/// </summary>
internal sealed class PostgresCatalogReader(NpgsqlDataSource dataSource) : ICatalogReader
{
    private const string SystemSchemas = "('pg_catalog', 'information_schema', 'pg_toast', '_molt', 'crdb_internal', 'pg_extension')";

    public async Task<IReadOnlyList<TableModel>> ReadTablesAsync(TableFilter filter, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var tables = (await ReadTableListAsync(connection, cancellationToken).ConfigureAwait(false))
            .Where(t => filter.Matches(t.Name)).ToList();
        if (tables.Count == 0)
        {
            return [];
        }

        var oids = tables.Select(t => t.Oid).ToArray();
        var columns = await ReadColumnsAsync(connection, oids, cancellationToken).ConfigureAwait(false);
        var constraints = await ReadConstraintsAsync(connection, oids, cancellationToken).ConfigureAwait(false);
        var indexes = await ReadIndexesAsync(connection, oids, cancellationToken).ConfigureAwait(false);
        return tables.Select(t =>
        {
            var tableConstraints = constraints.GetValueOrDefault(t.Oid) ?? new ConstraintSet();
            return new TableModel(t.Name, columns.GetValueOrDefault(t.Oid) ?? [], tableConstraints.PrimaryKey)
            {
                UniqueConstraints = tableConstraints.Unique,
                ForeignKeys = tableConstraints.ForeignKeys,
                Checks = tableConstraints.Checks,
                Indexes = indexes.GetValueOrDefault(t.Oid) ?? [],
                EstimatedRows = t.EstimatedRows,
                EstimatedBytes = t.EstimatedBytes,
                IsPartitioned = t.IsPartitioned,
            };
        }).OrderBy(t => t.Name).ToList();
    }

    private sealed record TableEntry(uint Oid, TableName Name, long EstimatedRows, long EstimatedBytes, bool IsPartitioned);

    private sealed class ConstraintSet
    {
        public List<string> PrimaryKey { get; set; } = [];

        public List<UniqueConstraintModel> Unique { get; } = [];

        public List<ForeignKeyModel> ForeignKeys { get; } = [];

        public List<CheckConstraintModel> Checks { get; } = [];
    }

    private static async Task<List<TableEntry>> ReadTableListAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // reltuples is -1 for a table never analysed; a partitioned parent's estimate is the sum of its partitions'.
        const string sql = $"""
            SELECT c.oid, n.nspname, c.relname, c.relkind = 'p',
                   CASE WHEN c.relkind = 'p' THEN
                        (SELECT coalesce(sum(greatest(p.reltuples, 0)), 0)::bigint FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid)
                        ELSE greatest(c.reltuples, 0)::bigint END,
                   CASE WHEN c.relkind = 'p' THEN
                        (SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint FROM pg_inherits i WHERE i.inhparent = c.oid)
                        ELSE pg_total_relation_size(c.oid) END
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND n.nspname NOT IN {SystemSchemas} AND n.nspname NOT LIKE 'pg_temp%'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
            ORDER BY n.nspname, c.relname
            """;
        var tables = new List<TableEntry>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            tables.Add(new TableEntry(reader.GetFieldValue<uint>(0), new TableName(reader.GetString(1), reader.GetString(2)),
                reader.GetInt64(4), reader.GetInt64(5), reader.GetBoolean(3)));
        }

        return tables;
    }

    private static async Task<Dictionary<uint, List<ColumnModel>>> ReadColumnsAsync(NpgsqlConnection connection, uint[] oids,
        CancellationToken cancellationToken)
    {
        // For a domain the base type is read too; for an array, its element type. Only category 'A' types are arrays:
        // point, box, name and a few others have a typelem too, for subscripting.
        const string sql = """
            SELECT a.attrelid, a.attname, a.attnum, NOT a.attnotnull,
                   format_type(a.atttypid, a.atttypmod),
                   format_type(et.oid, NULL) AS base_name,
                   t.typcategory = 'A' AS is_array,
                   a.atttypmod,
                   et.typtype, etn.nspname, et.typname,
                   CASE WHEN et.typtype = 'e' THEN ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = et.oid ORDER BY e.enumsortorder) END,
                   CASE WHEN et.typtype = 'd' THEN format_type(et.typbasetype, et.typtypmod) END,
                   CASE WHEN et.typtype = 'd' THEN format_type(et.typbasetype, NULL) END,
                   et.typtypmod,
                   pg_get_expr(d.adbin, d.adrelid),
                   a.attgenerated,
                   a.attidentity,
                   CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 THEN co.collname END
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            JOIN pg_type et ON et.oid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END
            JOIN pg_namespace etn ON etn.oid = et.typnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            LEFT JOIN pg_collation co ON co.oid = a.attcollation
            WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attrelid, a.attnum
            """;
        var columns = new Dictionary<uint, List<ColumnModel>>();
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new NpgsqlParameter { Value = oids, DataTypeName = "oid[]" } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var oid = reader.GetFieldValue<uint>(0);
            var isArray = reader.GetBoolean(6);
            var typeKind = reader.GetChar(8);
            var baseName = reader.GetString(5);
            var typmod = reader.GetInt32(7);
            ColumnType? domainBase = null;
            if (typeKind == 'd')
            {
                var domainModifier = reader.GetInt32(14);
                domainBase = WithModifier(new ColumnType(reader.GetString(13), reader.GetString(12)) { Family = Family(reader.GetString(13), 'b', null) },
                    domainModifier);
            }

            var type = WithModifier(new ColumnType(baseName, reader.GetString(4))
            {
                IsArray = isArray,
                UserTypeKind = typeKind switch { 'e' => "enum", 'd' => "domain", 'c' => "composite", 'r' => "range", 'm' => "multirange", _ => null },
                UserTypeName = typeKind is 'e' or 'd' or 'c' or 'r' or 'm' ? new TableName(reader.GetString(9), reader.GetString(10)) : null,
                EnumValues = reader.IsDBNull(11) ? null : reader.GetFieldValue<string[]>(11),
                DomainBase = domainBase,
                Family = Family(baseName, typeKind, domainBase),
            }, typmod);
            var generated = reader.GetChar(16);
            var identity = reader.GetChar(17);
            var defaultExpression = reader.IsDBNull(15) ? null : reader.GetString(15);
            var column = new ColumnModel(reader.GetString(1), reader.GetInt16(2), type, reader.GetBoolean(3))
            {
                DefaultExpression = generated == 's' ? null : defaultExpression,
                GenerationExpression = generated == 's' ? defaultExpression : null,
                Identity = identity switch
                {
                    'a' => IdentityKind.Always,
                    'd' => IdentityKind.ByDefault,
                    _ when defaultExpression?.StartsWith("nextval(", StringComparison.Ordinal) == true => IdentityKind.Sequence,
                    _ => IdentityKind.None,
                },
                Collation = reader.IsDBNull(18) ? null : reader.GetString(18),
            };
            if (!columns.TryGetValue(oid, out var list))
            {
                columns[oid] = list = [];
            }

            list.Add(column);
        }

        return columns;
    }

    /// <summary>
    /// The family of a base type (format_type's spelling), an enum, or a domain (its base type's). A type outside these
    /// (money, xml, inet, ranges, geometric types, oid) is Other: nothing treats it as anything but its text.
    /// </summary>
    internal static ColumnTypeFamily Family(string baseName, char typeKind, ColumnType? domainBase) => typeKind switch
    {
        'e' => ColumnTypeFamily.Enum,
        'd' when domainBase is not null => domainBase.Family,
        _ => baseName switch
        {
            "smallint" or "integer" or "bigint" => ColumnTypeFamily.Integer,
            "numeric" => ColumnTypeFamily.Decimal,
            "real" or "double precision" => ColumnTypeFamily.Float,
            "boolean" => ColumnTypeFamily.Boolean,
            "text" or "character varying" or "character" or "citext" => ColumnTypeFamily.Text,
            "bytea" => ColumnTypeFamily.Binary,
            "json" or "jsonb" => ColumnTypeFamily.Json,
            "date" => ColumnTypeFamily.Date,
            "timestamp without time zone" or "timestamp with time zone" => ColumnTypeFamily.Timestamp,
            "time without time zone" or "time with time zone" => ColumnTypeFamily.Time,
            "interval" => ColumnTypeFamily.Interval,
            "bit" or "bit varying" => ColumnTypeFamily.Bit,
            "uuid" => ColumnTypeFamily.Uuid,
            "geometry" or "geography" => ColumnTypeFamily.Spatial,
            _ => ColumnTypeFamily.Other,
        },
    };

    /// <summary>Decodes the type modifier PostgreSQL stores for lengths, precisions and scales.</summary>
    internal static ColumnType WithModifier(ColumnType type, int typmod)
    {
        if (typmod < 0)
        {
            return type;
        }

        return type.Name switch
        {
            "numeric" => type with { Precision = ((typmod - 4) >> 16) & 0xffff, Scale = (short)((typmod - 4) & 0xffff) },
            "character varying" or "character" => type with { Length = typmod - 4 },
            "bit" or "bit varying" => type with { Length = typmod },
            "timestamp without time zone" or "timestamp with time zone" or "time without time zone" or "time with time zone" =>
                type with { Precision = typmod },
            "interval" => type with { Precision = typmod & 0xffff },
            _ => type,
        };
    }

    private static async Task<Dictionary<uint, ConstraintSet>> ReadConstraintsAsync(NpgsqlConnection connection, uint[] oids,
        CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT c.conrelid, c.conname, c.contype,
                   ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(num, pos)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.pos),
                   rn.nspname, r.relname,
                   ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(num, pos)
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num ORDER BY k.pos),
                   c.confdeltype, c.confupdtype,
                   CASE WHEN c.contype = 'c' THEN pg_get_constraintdef(c.oid) END
            FROM pg_constraint c
            LEFT JOIN pg_class r ON r.oid = c.confrelid
            LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
            WHERE c.conrelid = ANY($1) AND c.contype IN ('p', 'u', 'f', 'c')
            ORDER BY c.conrelid, c.conname
            """;
        var sets = new Dictionary<uint, ConstraintSet>();
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new NpgsqlParameter { Value = oids, DataTypeName = "oid[]" } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var oid = reader.GetFieldValue<uint>(0);
            if (!sets.TryGetValue(oid, out var set))
            {
                sets[oid] = set = new ConstraintSet();
            }

            var name = reader.GetString(1);
            var columns = reader.GetFieldValue<string[]>(3);
            switch (reader.GetChar(2))
            {
                case 'p':
                    set.PrimaryKey = columns.ToList();
                    break;
                case 'u':
                    set.Unique.Add(new UniqueConstraintModel(name, columns));
                    break;
                case 'f':
                    set.ForeignKeys.Add(new ForeignKeyModel(name, columns, new TableName(reader.GetString(4), reader.GetString(5)),
                        reader.GetFieldValue<string[]>(6))
                    {
                        OnDelete = ReferentialAction(reader.GetChar(7)),
                        OnUpdate = ReferentialAction(reader.GetChar(8)),
                    });
                    break;
                case 'c':
                    set.Checks.Add(new CheckConstraintModel(name, reader.GetString(9)));
                    break;
            }
        }

        return sets;
    }

    private static string ReferentialAction(char code) => code switch
    {
        'r' => "RESTRICT",
        'c' => "CASCADE",
        'n' => "SET NULL",
        'd' => "SET DEFAULT",
        _ => "NO ACTION",
    };

    private static async Task<Dictionary<uint, List<IndexModel>>> ReadIndexesAsync(NpgsqlConnection connection, uint[] oids,
        CancellationToken cancellationToken)
    {
        // Key parts are column names, or the expression text for expression keys.
        // Indexes that back a constraint (primary key, unique, exclusion) are created with the constraint instead.
        const string sql = """
            SELECT i.indrelid, ic.relname, i.indisunique, am.amname,
                   ARRAY(SELECT CASE WHEN i.indkey[k.pos - 1] = 0 THEN pg_get_indexdef(i.indexrelid, k.pos::int, true)
                                 ELSE (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k.pos - 1]) END
                         FROM generate_series(1, i.indnkeyatts) k(pos) ORDER BY k.pos),
                   i.indexprs IS NOT NULL,
                   pg_get_expr(i.indpred, i.indrelid),
                   pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class ic ON ic.oid = i.indexrelid
            JOIN pg_am am ON am.oid = ic.relam
            WHERE i.indrelid = ANY($1)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
            ORDER BY i.indrelid, ic.relname
            """;
        var indexes = new Dictionary<uint, List<IndexModel>>();
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new NpgsqlParameter { Value = oids, DataTypeName = "oid[]" } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var oid = reader.GetFieldValue<uint>(0);
            if (!indexes.TryGetValue(oid, out var list))
            {
                indexes[oid] = list = [];
            }

            var method = reader.GetString(3);
            list.Add(new IndexModel(reader.GetString(1), reader.GetFieldValue<string[]>(4), reader.GetBoolean(2))
            {
                Method = method == "btree" ? null : method,
                HasExpressions = reader.GetBoolean(5),
                Predicate = reader.IsDBNull(6) ? null : reader.GetString(6),
                SourceDefinition = reader.GetString(7),
            });
        }

        return indexes;
    }
}
