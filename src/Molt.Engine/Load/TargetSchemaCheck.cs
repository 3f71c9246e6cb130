using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Load;

/// <summary>
/// When Molt does not create the target tables, checks before anything is written that each exists and has every
/// column the load writes, and that no target column the load leaves out is NOT NULL without a default.
/// </summary>
internal static class TargetSchemaCheck
{
    public static async Task EnsureCompatibleAsync(NpgsqlDataSource target, IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken)
    {
        var columns = await ReadColumnsAsync(target, plans, cancellationToken).ConfigureAwait(false);
        var problems = new List<string>();
        foreach (var plan in plans)
        {
            if (!columns.TryGetValue(plan.Target, out var existing))
            {
                problems.Add($"target table {plan.Target} does not exist");
                continue;
            }

            var missing = plan.Columns.Select(c => c.Name).Where(c => !existing.ContainsKey(c)).ToList();
            if (missing.Count > 0)
            {
                problems.Add($"target table {plan.Target} lacks column(s) {string.Join(", ", missing)}");
            }

            var written = plan.Columns.Select(c => c.Name).ToHashSet();
            var required = existing.Where(c => c.Value && !written.Contains(c.Key)).Select(c => c.Key).ToList();
            if (required.Count > 0)
            {
                problems.Add($"target table {plan.Target} has NOT NULL column(s) without default that the source does not have: {string.Join(", ", required)}");
            }
        }

        if (problems.Count > 0)
        {
            throw new MoltException(MoltErrorKind.SchemaMismatch, "TargetSchemaMismatch",
                "The target tables do not match the source: " + string.Join("; ", problems) + ". Nothing was written.",
                "Create the tables to match, or use -TableHandling DropAndRecreate to have Molt create them from the source's definition.");
        }
    }

    /// <summary>
    /// Per column, whether a row must give it a value. PostgreSQL says is_generated NEVER or ALWAYS; CockroachDB says NO
    /// or YES, and always NO for is_identity, but sets identity_start for identity columns
    /// (https://www.cockroachlabs.com/docs/stable/information-schema#columns).
    /// </summary>
    internal const string ColumnsSql = """
        SELECT table_schema, table_name, column_name,
               is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO' AND identity_start IS NULL AND is_generated IN ('NEVER', 'NO')
        FROM information_schema.columns
        WHERE table_schema = ANY($1) AND table_name = ANY($2)
        """;

    /// <summary>Per existing target table: column name -> "NOT NULL without a default".</summary>
    private static async Task<Dictionary<TableName, Dictionary<string, bool>>> ReadColumnsAsync(NpgsqlDataSource target, IReadOnlyList<TablePlan> plans,
        CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(ColumnsSql, connection)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = plans.Select(p => p.Target.Schema).Distinct().ToArray() },
                new NpgsqlParameter { Value = plans.Select(p => p.Target.Name).Distinct().ToArray() },
            },
        };
        var wanted = plans.Select(p => p.Target).ToHashSet();
        var tables = new Dictionary<TableName, Dictionary<string, bool>>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var table = new TableName(reader.GetString(0), reader.GetString(1));
            if (wanted.Contains(table))
            {
                if (!tables.TryGetValue(table, out var columns))
                {
                    tables[table] = columns = [];
                }

                columns[reader.GetString(2)] = reader.GetBoolean(3);
            }
        }

        return tables;
    }
}
