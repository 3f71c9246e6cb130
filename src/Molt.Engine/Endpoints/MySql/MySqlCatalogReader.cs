using System.Globalization;
using System.Data.Common;
using Molt.Engine.Schema;
using MySqlConnector;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// Reads tables from MySQL's or MariaDB's information_schema. A database is a schema; with no -Schema filter only
/// the database the address names is read (all user databases when it names none).
/// </summary>
internal sealed class MySqlCatalogReader(string connectionString, string? defaultDatabase) : ICatalogReader
{
    private const string SystemSchemas = "('mysql', 'information_schema', 'performance_schema', 'sys', '_molt')";

    public async Task<IReadOnlyList<TableModel>> ReadTablesAsync(TableFilter filter, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var onlyDefault = filter.SchemaPatterns.Count == 0 && !string.IsNullOrEmpty(defaultDatabase);
        var tables = (await ReadTableListAsync(connection, cancellationToken).ConfigureAwait(false))
            .Where(t => (!onlyDefault || t.Name.Schema == defaultDatabase) && filter.Matches(t.Name)).ToList();
        if (tables.Count == 0)
        {
            return [];
        }

        var wanted = tables.Select(t => t.Name).ToHashSet();
        var (checks, jsonColumns) = await ReadChecksAsync(connection, wanted, cancellationToken).ConfigureAwait(false);
        var srids = await ReadSridsAsync(connection, cancellationToken).ConfigureAwait(false);
        var columns = await ReadColumnsAsync(connection, wanted, jsonColumns, srids, cancellationToken).ConfigureAwait(false);
        var indexes = await ReadIndexesAsync(connection, wanted, cancellationToken).ConfigureAwait(false);
        var foreignKeys = await ReadForeignKeysAsync(connection, wanted, cancellationToken).ConfigureAwait(false);
        return tables.Select(t =>
        {
            var keys = indexes.GetValueOrDefault(t.Name) ?? [];
            var primary = keys.FirstOrDefault(k => k.Name == "PRIMARY");
            return new TableModel(t.Name, columns.GetValueOrDefault(t.Name) ?? [], primary?.Columns ?? [])
            {
                UniqueConstraints = keys.Where(k => k.IsUnique && k.Name != "PRIMARY").Select(k => new UniqueConstraintModel(k.Name, k.Columns)).ToList(),
                Indexes = keys.Where(k => !k.IsUnique).Select(k => new IndexModel(k.Name, k.Columns, false)
                {
                    Method = k.Type is "BTREE" or "HASH" ? null : k.Type.ToLowerInvariant(),
                }).ToList(),
                ForeignKeys = foreignKeys.GetValueOrDefault(t.Name) ?? [],
                Checks = checks.GetValueOrDefault(t.Name) ?? [],
                EstimatedRows = t.Rows,
                EstimatedBytes = t.Bytes,
            };
        }).OrderBy(t => t.Name).ToList();
    }

    private sealed record TableEntry(TableName Name, long Rows, long Bytes);

    private sealed record KeyEntry(string Name, bool IsUnique, string Type, List<string> Columns);

    private static async Task<List<TableEntry>> ReadTableListAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        const string sql = $"""
            SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0), COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0)
            FROM information_schema.TABLES
            WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN {SystemSchemas}
            ORDER BY TABLE_SCHEMA, TABLE_NAME
            """;
        var tables = new List<TableEntry>();
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            tables.Add(new TableEntry(new TableName(reader.GetString(0), reader.GetString(1)), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture)));
        }

        return tables;
    }

    /// <summary>
    /// Every CHECK constraint of the wanted tables, and the columns MariaDB stores JSON in: a LONGTEXT with a
    /// json_valid() check named after the column, which is the column's type rather than a constraint to carry.
    /// MariaDB names checks per table (CHECK_CONSTRAINTS has TABLE_NAME); MySQL 8.0.16+ per schema, with the table in
    /// TABLE_CONSTRAINTS.
    /// </summary>
    private static async Task<(Dictionary<TableName, List<CheckConstraintModel>> Checks, HashSet<(string Schema, string Table, string Column)> JsonColumns)>
        ReadChecksAsync(MySqlConnection connection, HashSet<TableName> wanted, CancellationToken cancellationToken)
    {
        var checks = new Dictionary<TableName, List<CheckConstraintModel>>();
        var json = new HashSet<(string, string, string)>();
        var mariaDb = connection.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        var sql = mariaDb
            ? $"""
              SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, 'YES' FROM information_schema.CHECK_CONSTRAINTS
              WHERE CONSTRAINT_SCHEMA NOT IN {SystemSchemas}
              """
            : $"""
              SELECT t.TABLE_SCHEMA, t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE, t.ENFORCED
              FROM information_schema.TABLE_CONSTRAINTS t
              JOIN information_schema.CHECK_CONSTRAINTS c ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME
              WHERE t.CONSTRAINT_TYPE = 'CHECK' AND t.TABLE_SCHEMA NOT IN {SystemSchemas}
              """;
        MySqlDataReader reader;
        await using var command = new MySqlCommand(sql, connection);
        try
        {
            reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.UnknownTable or MySqlErrorCode.BadFieldError)
        {
            // A server older than CHECK constraints (MySQL before 8.0.16) parses and ignores them: there are none to carry.
            return (checks, json);
        }

        await using (reader)
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var table = new TableName(reader.GetString(0), reader.GetString(1));
                var (name, clause) = (reader.GetString(2), reader.GetString(3));
                if (mariaDb && clause == $"json_valid({MySqlSyntax.Quote(name)})")
                {
                    json.Add((table.Schema, table.Name, name));
                }
                else if (wanted.Contains(table))
                {
                    var list = checks.TryGetValue(table, out var found) ? found : checks[table] = [];
                    list.Add(new CheckConstraintModel(name, clause) { IsEnforced = !string.Equals(reader.GetString(4), "NO", StringComparison.OrdinalIgnoreCase) });
                }
            }
        }

        return (checks, json);
    }

    /// <summary>
    /// The SRID each spatial column declares: MySQL 8's SRS_ID in COLUMNS (absent before 8.0), MariaDB's REF_SYSTEM_ID
    /// attribute in GEOMETRY_COLUMNS (SRID 0 there when none was declared). MariaDB does not hold a column's values to it.
    /// </summary>
    private static async Task<Dictionary<(string Schema, string Table, string Column), int>> ReadSridsAsync(MySqlConnection connection,
        CancellationToken cancellationToken)
    {
        var mariaDb = connection.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        var sql = mariaDb
            ? $"""
              SELECT G_TABLE_SCHEMA, G_TABLE_NAME, G_GEOMETRY_COLUMN, SRID FROM information_schema.GEOMETRY_COLUMNS
              WHERE G_TABLE_SCHEMA NOT IN {SystemSchemas} AND SRID > 0
              """
            : $"""
              SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, SRS_ID FROM information_schema.COLUMNS
              WHERE TABLE_SCHEMA NOT IN {SystemSchemas} AND SRS_ID > 0
              """;
        var srids = new Dictionary<(string, string, string), int>();
        await using var command = new MySqlCommand(sql, connection);
        MySqlDataReader reader;
        try
        {
            reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.UnknownTable or MySqlErrorCode.BadFieldError)
        {
            // MySQL 5.7 has no column SRIDs: its columns take values of any SRID.
            return srids;
        }

        await using (reader)
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                srids[(reader.GetString(0), reader.GetString(1), reader.GetString(2))] = Convert.ToInt32(reader.GetValue(3), CultureInfo.InvariantCulture);
            }
        }

        return srids;
    }

    private static async Task<Dictionary<TableName, List<ColumnModel>>> ReadColumnsAsync(MySqlConnection connection, HashSet<TableName> wanted,
        HashSet<(string, string, string)> jsonColumns, Dictionary<(string, string, string), int> srids, CancellationToken cancellationToken)
    {
        const string sql = $"""
            SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, IS_NULLABLE = 'YES', LOWER(DATA_TYPE), COLUMN_TYPE,
                   CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_SET_NAME, COLUMN_DEFAULT, EXTRA,
                   GENERATION_EXPRESSION
            FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA NOT IN {SystemSchemas}
            ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION
            """;
        var mariaDb = connection.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        var columns = new Dictionary<TableName, List<ColumnModel>>();
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var table = new TableName(reader.GetString(0), reader.GetString(1));
            if (!wanted.Contains(table))
            {
                continue;
            }

            var name = reader.GetString(2);
            var dataType = reader.GetString(5);
            var declared = reader.GetString(6);
            if (jsonColumns.Contains((table.Schema, table.Name, name)))
            {
                dataType = "json";
            }

            var extra = reader.IsDBNull(13) ? "" : reader.GetString(13);
            var generation = reader.IsDBNull(14) ? null : reader.GetString(14);
            var type = new ColumnType(dataType, declared)
            {
                Length = dataType is "bit" ? NullableInt(reader, 8) : NullableInt(reader, 7),
                Precision = dataType is "datetime" or "timestamp" or "time" ? NullableInt(reader, 10) : NullableInt(reader, 8),
                Scale = NullableInt(reader, 9),
                IsUnsigned = declared.Contains("unsigned", StringComparison.OrdinalIgnoreCase),
                EnumValues = dataType is "enum" or "set" ? MySqlEnumValues.Parse(declared) : null,
                CharacterSet = reader.IsDBNull(11) ? null : reader.GetString(11),
                Family = Family(dataType),
                Srid = srids.TryGetValue((table.Schema, table.Name, name), out var srid) ? srid : null,
            };
            var column = new ColumnModel(name, Convert.ToInt32(reader.GetValue(3), CultureInfo.InvariantCulture), type, reader.GetBoolean(4))
            {
                DefaultExpression = MySqlColumnDefaults.Default(reader.IsDBNull(12) ? null : reader.GetString(12), extra, mariaDb),
                OnUpdateExpression = MySqlColumnDefaults.OnUpdate(extra),
                GenerationExpression = extra.Contains("GENERATED", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(generation) ? generation : null,
                Identity = extra.Contains("auto_increment", StringComparison.OrdinalIgnoreCase) ? IdentityKind.AutoIncrement : IdentityKind.None,
            };
            if (!columns.TryGetValue(table, out var list))
            {
                columns[table] = list = [];
            }

            list.Add(column);
        }

        return columns;
    }

    private static async Task<Dictionary<TableName, List<KeyEntry>>> ReadIndexesAsync(MySqlConnection connection, HashSet<TableName> wanted,
        CancellationToken cancellationToken)
    {
        const string sql = $"""
            SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE = 0, INDEX_TYPE, COLUMN_NAME
            FROM information_schema.STATISTICS
            WHERE TABLE_SCHEMA NOT IN {SystemSchemas}
            ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
            """;
        var indexes = new Dictionary<TableName, List<KeyEntry>>();
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var table = new TableName(reader.GetString(0), reader.GetString(1));
            if (!wanted.Contains(table) || reader.IsDBNull(5))
            {
                continue;
            }

            if (!indexes.TryGetValue(table, out var list))
            {
                indexes[table] = list = [];
            }

            var name = reader.GetString(2);
            var entry = list.FirstOrDefault(k => k.Name == name);
            if (entry is null)
            {
                list.Add(entry = new KeyEntry(name, reader.GetBoolean(3), reader.GetString(4), []));
            }

            entry.Columns.Add(reader.GetString(5));
        }

        return indexes;
    }

    private static async Task<Dictionary<TableName, List<ForeignKeyModel>>> ReadForeignKeysAsync(MySqlConnection connection, HashSet<TableName> wanted,
        CancellationToken cancellationToken)
    {
        const string sql = $"""
            SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME,
                   k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
            FROM information_schema.KEY_COLUMN_USAGE k
            JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
                 AND r.TABLE_NAME = k.TABLE_NAME
            WHERE k.TABLE_SCHEMA NOT IN {SystemSchemas} AND k.REFERENCED_TABLE_NAME IS NOT NULL
            ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
            """;
        var keys = new Dictionary<(TableName Table, string Name), (List<string> Columns, TableName Referenced, List<string> ReferencedColumns, string OnDelete, string OnUpdate)>();
        await using (var command = new MySqlCommand(sql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var table = new TableName(reader.GetString(0), reader.GetString(1));
                if (!wanted.Contains(table))
                {
                    continue;
                }

                var key = (table, reader.GetString(2));
                if (!keys.TryGetValue(key, out var entry))
                {
                    keys[key] = entry = ([], new TableName(reader.GetString(4), reader.GetString(5)), [], reader.GetString(7), reader.GetString(8));
                }

                entry.Columns.Add(reader.GetString(3));
                entry.ReferencedColumns.Add(reader.GetString(6));
            }
        }

        return keys.GroupBy(k => k.Key.Table).ToDictionary(g => g.Key, g => g.Select(k =>
            new ForeignKeyModel(k.Key.Name, k.Value.Columns, k.Value.Referenced, k.Value.ReferencedColumns)
            {
                OnDelete = k.Value.OnDelete,
                OnUpdate = k.Value.OnUpdate,
            }).ToList());
    }

    /// <summary>
    /// The family of a DATA_TYPE (MariaDB's JSON already told from its check). YEAR is an integer (1901..2155, or 0);
    /// TIME is a signed duration of up to 838 hours, so an interval, not a time of day.
    /// </summary>
    internal static ColumnTypeFamily Family(string dataType) => dataType switch
    {
        "tinyint" or "smallint" or "mediumint" or "int" or "integer" or "bigint" or "year" => ColumnTypeFamily.Integer,
        "decimal" or "numeric" => ColumnTypeFamily.Decimal,
        "float" or "double" or "real" => ColumnTypeFamily.Float,
        "char" or "varchar" or "tinytext" or "text" or "mediumtext" or "longtext" => ColumnTypeFamily.Text,
        "binary" or "varbinary" or "tinyblob" or "blob" or "mediumblob" or "longblob" => ColumnTypeFamily.Binary,
        "json" => ColumnTypeFamily.Json,
        "date" => ColumnTypeFamily.Date,
        "datetime" or "timestamp" => ColumnTypeFamily.Timestamp,
        "time" => ColumnTypeFamily.Interval,
        "bit" => ColumnTypeFamily.Bit,
        "enum" or "set" => ColumnTypeFamily.Enum,
        "geometry" or "point" or "linestring" or "polygon" or "multipoint" or "multilinestring" or "multipolygon" or "geometrycollection" => ColumnTypeFamily.Spatial,
        _ => ColumnTypeFamily.Other,
    };

    // LONGTEXT's maximum length (4294967295) does not fit an int, and no length is needed for it.
    private static int? NullableInt(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) || Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture) is var value && value > int.MaxValue ? null : (int)Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);
}
