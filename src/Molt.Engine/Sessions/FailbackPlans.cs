using Molt.Engine.Schema;

namespace Molt.Engine.Sessions;

/// <summary>
/// The tables failback applies: each migrated table as it is now on the migration target (where its changes are read)
/// paired with its original table (where they are written), column by column as the forward load paired them. A target
/// table that no longer matches what the load made of the original is refused, naming every difference, since its
/// changes cannot be written back faithfully.
/// </summary>
internal static class FailbackPlans
{
    /// <param name="forward">The forward stream's tables, planned again from the original's catalog as Resume plans them.</param>
    /// <param name="targetTables">The migrated tables read from the migration target's catalog now.</param>
    /// <param name="original">
    /// The dialect that maps the target's columns and, unless <paramref name="originalType"/> gives it, the original's
    /// types: the original's own for a PostgreSQL original; the migration target's for a MySQL-family one, which no
    /// pgwire dialect writes.
    /// </param>
    /// <param name="originalType">The type a loaded column is written back as, where the original is not a pgwire database.</param>
    /// <exception cref="MoltException"><c>FailbackTablesChanged</c>: a migrated table is missing, or its columns differ.</exception>
    public static IReadOnlyList<TablePlan> Pair(string fetchId, IReadOnlyList<TablePlan> forward, IReadOnlyList<TableModel> targetTables, ITargetDialect original,
        Func<TargetColumn, TargetType>? originalType = null)
    {
        var onTarget = targetTables.ToDictionary(t => t.Name);
        var problems = new List<string>();
        var plans = new List<TablePlan>();
        foreach (var plan in forward)
        {
            if (!onTarget.TryGetValue(plan.Target, out var table))
            {
                problems.Add($"{plan.Target} no longer exists on the target");
                continue;
            }

            var columns = table.CopiedColumns.ToDictionary(c => c.Name);
            var planned = plan.Columns.Select(c => c.Name).ToHashSet();
            var missing = plan.Columns.Where(c => !columns.ContainsKey(c.Name)).Select(c => c.Name).ToList();
            var added = table.CopiedColumns.Where(c => !planned.Contains(c.Name)).Select(c => c.Name).ToList();
            var retyped = plan.Columns.Where(c => columns.TryGetValue(c.Name, out var now) && !SameType(c, table, now, original))
                .Select(c => $"{c.Name} is {columns[c.Name].Type.Declared}, loaded as {c.Type.Sql}").ToList();
            if (missing.Count > 0)
            {
                problems.Add($"{plan.Target} lacks column(s) {string.Join(", ", missing)}");
            }

            if (added.Count > 0)
            {
                problems.Add($"{plan.Target} has column(s) {string.Join(", ", added)} that {plan.Source.Name} does not");
            }

            if (retyped.Count > 0)
            {
                problems.Add($"{plan.Target}: {string.Join("; ", retyped)}");
            }

            if (missing.Count + added.Count + retyped.Count == 0)
            {
                plans.Add(Reverse(plan, table, columns, original, originalType));
            }
        }

        if (problems.Count > 0)
        {
            throw new MoltException(MoltErrorKind.SchemaMismatch, "FailbackTablesChanged",
                $"Failback of '{fetchId}' cannot write the target's changes back: {string.Join("; ", problems)}.",
                "Make the target tables match the original ones again (the columns the load created), or change the original tables to match, then start failback again.")
            {
                Target = fetchId,
            };
        }

        return plans;
    }

    /// <summary>The changes of <paramref name="table"/> written into the original table, each column under its original name and type.</summary>
    private static TablePlan Reverse(TablePlan plan, TableModel table, Dictionary<string, ColumnModel> columns, ITargetDialect original,
        Func<TargetColumn, TargetType>? originalType) =>
        new(table, plan.Source.Name,
            plan.Columns.Select(c => new TargetColumn(columns[c.Name], c.Source.Name,
                originalType?.Invoke(c) ?? original.MapType(plan.Source, c.Source, SqlSyntax.Postgres, TypeMapOverrides.None), c.Source.IsNullable)).ToList(),
            plan.Source.PrimaryKey)
        {
            SourceSyntax = SqlSyntax.Postgres,
        };

    /// <summary>Compared by the wire type both map to, which ignores spellings of one type (int4, integer) that catalogs differ in.</summary>
    private static bool SameType(TargetColumn loaded, TableModel table, ColumnModel now, ITargetDialect original) =>
        string.Equals(original.MapType(table, now, SqlSyntax.Postgres, TypeMapOverrides.None).WireType, loaded.Type.WireType, StringComparison.OrdinalIgnoreCase);
}
