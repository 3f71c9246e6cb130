using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.MySqlBinlog.Events;
using BinlogType = Molt.MySqlBinlog.Values.ColumnType;

namespace Molt.Engine.Endpoints.MySql.Replication;

/// <summary>
/// One planned table as a binlog TABLE_MAP describes it: the change model's table, the value conversion of each binlog
/// column (the plan's target column through <see cref="MySqlValueTable"/>), where the key sits, and, when the table map
/// differs from the plan, what changed (reported when a change of the table is about to be delivered).
/// </summary>
internal sealed class BinlogTable
{
    private readonly ColumnModel[] sourceColumns;
    private readonly MySqlColumnConverter?[] converters;

    private BinlogTable(TablePlan plan, ChangeTable table, ColumnModel[] sourceColumns, MySqlColumnConverter?[] converters, int[] keyOrdinals, string? difference)
    {
        Plan = plan;
        Table = table;
        this.sourceColumns = sourceColumns;
        this.converters = converters;
        KeyOrdinals = keyOrdinals;
        Difference = difference;
    }

    public TablePlan Plan { get; }

    public ChangeTable Table { get; }

    /// <summary>The positions of <see cref="ChangeTable.KeyColumns"/> in the binlog's row images.</summary>
    public int[] KeyOrdinals { get; }

    /// <summary>How the table map differs from the plan, or null when it matches.</summary>
    public string? Difference { get; }

    /// <exception cref="MoltException">The table differs from the plan.</exception>
    public void RequireUnchanged()
    {
        if (Difference is not null)
        {
            throw BinlogSchemaChanges.Changed(Table.Name, Difference);
        }
    }

    /// <summary>
    /// Describes the table map against the plan: the binlog carries every column of the table (generated ones too) in
    /// the table's order; names, signedness and ENUM/SET labels come from FULL row metadata when present, else from the
    /// plan's catalog reading, which the binlog's column types are then checked against.
    /// </summary>
    public static BinlogTable Describe(TableMapEvent map, TablePlan plan, ZeroDateHandling zeroDates)
    {
        var planned = plan.Source.Columns.OrderBy(c => c.Ordinal).ToArray();
        var difference = Compare(map, planned);
        var names = planned.Length == map.Columns.Count ? planned.Select(c => c.Name).ToList() : map.Columns.Select((c, i) => c.Name ?? $"column {i + 1}").ToList();
        var converters = new MySqlColumnConverter?[names.Count];
        if (difference is null)
        {
            foreach (var target in plan.Columns)
            {
                converters[Array.FindIndex(planned, c => c.Name == target.Source.Name)] = MySqlValueTable.For(target, zeroDates);
            }
        }

        var matchesByAllColumns = !plan.Source.HasPrimaryKey;
        var key = matchesByAllColumns ? plan.Columns.Select(c => c.Source.Name).ToList() : plan.Source.PrimaryKey.ToList();
        var table = new ChangeTable(plan.Source.Name, names, key) { MatchesByAllColumns = matchesByAllColumns };
        return new BinlogTable(plan, table, planned, converters, key.Select(k => names.IndexOf(k)).ToArray(), difference);
    }

    /// <summary>A binlog row image as the change model's: each present value converted for its target column, absent ones unchanged.</summary>
    public RowImage Convert(BinlogRowImage image)
    {
        var values = new object?[converters.Length];
        var states = new ColumnValueState[converters.Length];
        for (var i = 0; i < converters.Length; i++)
        {
            if (!image.IsPresent(i))
            {
                states[i] = ColumnValueState.Unchanged;
                continue;
            }

            if (converters[i] is not { } converter || image[i] is null)
            {
                // A generated column (the target computes it) or SQL NULL.
                continue;
            }

            var converted = converter.ToParameterValue(BinlogValues.ToMySqlValue(image[i], sourceColumns[i]));
            values[i] = converted is DBNull ? null : converted;
        }

        return new RowImage(values, states);
    }

    /// <summary>The key columns' values of an image; null when a key column is not in it.</summary>
    public object?[]? Key(RowImage image)
    {
        var key = new object?[KeyOrdinals.Length];
        for (var i = 0; i < KeyOrdinals.Length; i++)
        {
            if (!image.IsPresent(KeyOrdinals[i]))
            {
                return null;
            }

            key[i] = image.Values[KeyOrdinals[i]];
        }

        return key;
    }

    private static string? Compare(TableMapEvent map, ColumnModel[] planned)
    {
        var changes = new List<string>();
        if (map.Columns.Count != planned.Length)
        {
            var binlogNames = map.Columns.Select(c => c.Name).OfType<string>().ToList();
            if (binlogNames.Count == map.Columns.Count)
            {
                changes.AddRange(binlogNames.Where(n => planned.All(p => p.Name != n)).Select(n => $"column \"{n}\" was added"));
                changes.AddRange(planned.Where(p => !binlogNames.Contains(p.Name)).Select(p => $"column \"{p.Name}\" was dropped or renamed"));
            }

            changes.Add($"it has {map.Columns.Count} columns in the binlog, {planned.Length} when it was loaded");
            return string.Join("; ", changes);
        }

        for (var i = 0; i < planned.Length; i++)
        {
            var column = map.Columns[i];
            var plan = planned[i];
            if (column.Name is { } name && name != plan.Name)
            {
                changes.Add($"column {i + 1} is \"{name}\" in the binlog, \"{plan.Name}\" when it was loaded");
                continue;
            }

            if (!BinlogColumnTypes.Matches(column.RealType, plan.Type))
            {
                changes.Add($"column \"{plan.Name}\" changed type from {plan.Type.Declared} to a binlog {column.RealType}");
            }
            else if (column.IsUnsigned is { } unsigned && ColumnTypesWithSign(plan) && unsigned != plan.Type.IsUnsigned)
            {
                changes.Add($"column \"{plan.Name}\" is {(unsigned ? "unsigned" : "signed")} now, {plan.Type.Declared} when it was loaded");
            }
            else if ((column.EnumValues ?? column.SetValues) is { } labels && plan.Type.EnumValues is { } plannedLabels && !labels.SequenceEqual(plannedLabels))
            {
                changes.Add($"column \"{plan.Name}\" has the members ({string.Join(", ", labels)}) now, {plan.Type.Declared} when it was loaded");
            }
        }

        return changes.Count == 0 ? null : string.Join("; ", changes);
    }

    private static bool ColumnTypesWithSign(ColumnModel column) => column.Type.Family is ColumnTypeFamily.Integer && column.Type.Name != "year";
}

/// <summary>Which binlog column types each MySQL DATA_TYPE is written as.</summary>
internal static class BinlogColumnTypes
{
    public static bool Matches(BinlogType binlog, ColumnType planned) => planned.Name switch
    {
        "tinyint" => binlog == BinlogType.Tiny,
        "smallint" => binlog == BinlogType.Short,
        "mediumint" => binlog == BinlogType.Int24,
        "int" or "integer" => binlog == BinlogType.Long,
        "bigint" => binlog == BinlogType.LongLong,
        "decimal" or "numeric" => binlog is BinlogType.NewDecimal or BinlogType.Decimal,
        "float" => binlog == BinlogType.Float,
        "double" or "real" => binlog == BinlogType.Double,
        "bit" => binlog == BinlogType.Bit,
        "year" => binlog == BinlogType.Year,
        "date" => binlog is BinlogType.Date or BinlogType.NewDate,
        "datetime" => binlog is BinlogType.DateTime or BinlogType.DateTime2,
        "timestamp" => binlog is BinlogType.Timestamp or BinlogType.Timestamp2,
        "time" => binlog is BinlogType.Time or BinlogType.Time2,
        "char" or "binary" => binlog == BinlogType.String,
        "varchar" or "varbinary" => binlog is BinlogType.VarChar or BinlogType.VarString,
        "enum" => binlog is BinlogType.Enum or BinlogType.String,
        "set" => binlog is BinlogType.Set or BinlogType.String,
        // MariaDB's JSON is a LONGTEXT.
        "json" => binlog is BinlogType.Json or BinlogType.Blob,
        "tinytext" or "text" or "mediumtext" or "longtext" or "tinyblob" or "blob" or "mediumblob" or "longblob" =>
            binlog is BinlogType.Blob or BinlogType.TinyBlob or BinlogType.MediumBlob or BinlogType.LongBlob,
        "vector" => binlog == BinlogType.Vector,
        // Spatial types and anything newer: GEOMETRY in the binlog.
        _ => binlog == BinlogType.Geometry,
    };
}
