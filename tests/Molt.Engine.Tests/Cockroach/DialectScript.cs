using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// Everything a dialect emits for a set of source tables, as one readable SQL script, compared with a file under
/// Expected/. Set MOLT_UPDATE_EXPECTED=1 to rewrite the files from what the dialect emits now (then read the diff).
/// </summary>
internal static class DialectScript
{
    public static async Task<IReadOnlyList<TableModel>> ReadCatalogAsync(string sourceUri, TableFilter filter)
    {
        using var log = new MoltLogSession();
        await using var source = await DatabaseRegistry.OpenSourceAsync(EndpointAddress.Parse(sourceUri), new SourceOptions(), log.Logger, default);
        return await source.Catalog.ReadTablesAsync(filter, default);
    }

    public static string Render(IEnumerable<TableModel> tables, ITargetDialect dialect, SqlSyntax sourceSyntax, Func<TableName, TableName> targetName,
        TypeMapOverrides? overrides = null)
    {
        var ordered = tables.OrderBy(t => t.Name).ToList();
        var plans = ordered.Select(t => TablePlanner.Plan(t, targetName(t.Name), dialect, sourceSyntax, overrides ?? TypeMapOverrides.None)).ToList();
        var loaded = plans.ToDictionary(p => p.Source.Name);
        var script = new StringBuilder();
        foreach (var plan in plans)
        {
            script.Append("-- ").Append(plan.Source.Name).Append(" -> ").Append(plan.Target).Append('\n');
            // A MySQL value is always converted; a PostgreSQL one is worth a line when it is.
            foreach (var column in plan.Columns.Where(c => c.Type.Note is not null || (sourceSyntax == SqlSyntax.Postgres && !c.Type.IsBinaryCompatible)))
            {
                script.Append(CultureInfo.InvariantCulture, $"--   {column.Name}: {column.Source.Type.Declared} -> {column.Type.Sql} as {column.Type.WireType}" +
                              $"{(column.Type.IsBinaryCompatible ? "" : ", converted")}{(column.Type.Note is null ? "" : $" ({column.Type.Note})")}\n");
            }

            foreach (var statement in dialect.CreateSupportingTypes(plan).Append(dialect.DropTablesIfExist([plan.Target], cascade: false)).Append(dialect.CreateTable(plan))
                         .Append(dialect.TruncateTables([plan.Target], cascade: false)).Append(dialect.CopyFromStdin(plan))
                         .Concat(dialect.ImportInto(plan, [$"http://molt-host:3000/run/{plan.Target.Name}.0.csv"]) is { } import ? [import] : []))
            {
                script.Append(statement).Append(";\n");
            }

            foreach (var statement in dialect.PostLoadStatements(plan, loaded))
            {
                script.Append(statement.Sql is null ? $"-- {statement.Description} not translated: {statement.NotTranslatedReason}\n" : statement.Sql + ";\n");
            }

            if (plan.PrimaryKey.Count > 0)
            {
                script.Append(dialect.Upsert(plan.Target, plan.Columns.Select(c => c.Name).ToList(), plan.PrimaryKey, 2)).Append(";\n");
                script.Append(dialect.DeleteByKeys(plan.Target, plan.PrimaryKey, 2)).Append(";\n");
            }

            script.Append('\n');
        }

        return script.ToString();
    }

    public static void AssertMatches(string actual, string name, [CallerFilePath] string caller = "")
    {
        var path = Path.Combine(Path.GetDirectoryName(caller)!, "Expected", name);
        if (Environment.GetEnvironmentVariable("MOLT_UPDATE_EXPECTED") == "1")
        {
            File.WriteAllText(path, actual);
        }

        Assert.True(File.Exists(path), $"{path} is missing: run the test with MOLT_UPDATE_EXPECTED=1 and review the file.");
        var expected = File.ReadAllText(path);
        if (expected != actual)
        {
            var actualPath = Path.Combine(Path.GetTempPath(), "molt-actual-" + name);
            File.WriteAllText(actualPath, actual);
            Assert.Fail($"The SQL differs from {path}; what the dialect emits now is in {actualPath} (diff the two).");
        }
    }
}
