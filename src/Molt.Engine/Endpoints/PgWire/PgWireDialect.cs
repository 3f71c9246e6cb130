using Molt.Engine.Schema;
using static Molt.Engine.Endpoints.PgWire.PgWireSyntax;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// The SQL that PostgreSQL and CockroachDB spell alike: tables are created with their primary key only, and what slows a
/// load down (secondary indexes, unique constraints, checks, foreign keys, identity restarts) follows the data. Each
/// target overrides what it spells its own way.
/// </summary>
internal abstract class PgWireDialect : ITargetDialect
{
    private const int MaxIdentifierLength = 63;

    public abstract string DisplayName { get; }

    public abstract bool SupportsImportInto { get; }

    public abstract bool CanDeferPrimaryKey { get; }

    public abstract bool GivesKeylessTablesHiddenRowId { get; }

    public abstract long? MaxRowsPerTransaction { get; }

    public string Quote(string identifier) => PgWireSyntax.Quote(identifier);

    public string Quote(TableName table) => PgWireSyntax.Quote(table);

    public abstract void CheckTable(TableModel table);

    public abstract TargetType MapType(TableModel table, ColumnModel column, SqlSyntax sourceSyntax, TypeMapOverrides typeOverrides);

    public abstract string CopyFromStdin(TablePlan plan);

    /// <summary>
    /// The option list without parentheses: PostgreSQL's older spelling, the only one CockroachDB's COPY takes
    /// (https://www.cockroachlabs.com/docs/stable/copy lists CSV and NULL).
    /// </summary>
    public string CopyCsvFromStdin(TablePlan plan) =>
        $"COPY {Quote(plan.Target)} ({QuoteList(plan.Columns.Select(c => c.Name))}) FROM STDIN WITH CSV NULL {Literal(Load.CsvShard.Null)}";

    public abstract string? ImportInto(TablePlan plan, IReadOnlyList<string> fileUrls);

    public abstract string Upsert(TableName target, IReadOnlyList<string> columns, IReadOnlyList<string> keyColumns, int rows);

    public IReadOnlyList<string> CreateSupportingTypes(TablePlan plan)
    {
        var statements = new List<string> { $"CREATE SCHEMA IF NOT EXISTS {Quote(plan.Target.Schema)}" };
        foreach (var type in plan.Columns.Select(c => c.Source.Type).Where(t => t.UserTypeKind == "enum" && t.EnumValues is not null && t.UserTypeName is not null)
                     .DistinctBy(t => t.UserTypeName))
        {
            statements.Add($"CREATE SCHEMA IF NOT EXISTS {Quote(type.UserTypeName!.Schema)}");
            statements.Add(CreateEnumIfNotExists(type.UserTypeName!, string.Join(", ", type.EnumValues!.Select(Literal))));
        }

        return statements.Distinct().ToList();
    }

    public string CreateTable(TablePlan plan, bool deferPrimaryKey = false)
    {
        var definitions = plan.Columns.Select(ColumnDefinition).ToList();
        if (IsPostgresSource(plan))
        {
            // Generated columns are not copied: PostgreSQL computes them again from the same expression.
            definitions.AddRange(plan.Source.Columns.Where(c => c.IsGenerated)
                .Select(c => $"{Quote(c.Name)} {c.Type.Declared} GENERATED ALWAYS AS ({c.GenerationExpression}) STORED"));
        }

        if (plan.PrimaryKey.Count > 0 && !(deferPrimaryKey && AddPrimaryKey(plan) is not null))
        {
            definitions.Add($"PRIMARY KEY ({QuoteList(plan.PrimaryKey)})");
        }

        return $"CREATE TABLE {Quote(plan.Target)} ({string.Join(", ", definitions)})";
    }

    public abstract string? AddPrimaryKey(TablePlan plan);

    /// <summary>
    /// Both servers take a list (https://www.cockroachlabs.com/docs/stable/drop-table); RESTRICT, the default, refuses
    /// when an object depends on a table, and PostgreSQL does not count foreign keys among the listed tables.
    /// </summary>
    public string DropTablesIfExist(IReadOnlyList<TableName> targets, bool cascade) =>
        $"DROP TABLE IF EXISTS {string.Join(", ", targets.Select(Quote))}{(cascade ? " CASCADE" : "")}";

    /// <summary>
    /// PostgreSQL refuses to truncate a referenced table unless its referencing tables are in the same statement;
    /// CockroachDB also takes a list, and CASCADE, the same way (https://www.cockroachlabs.com/docs/stable/truncate).
    /// </summary>
    public string TruncateTables(IReadOnlyList<TableName> targets, bool cascade) =>
        $"TRUNCATE TABLE {string.Join(", ", targets.Select(Quote))}{(cascade ? " CASCADE" : "")}";

    public IReadOnlyList<DdlStatement> PostLoadStatements(TablePlan plan, IReadOnlyDictionary<TableName, TableName> targetNames)
    {
        var source = plan.Source;
        var target = Quote(plan.Target);
        var fromPostgres = IsPostgresSource(plan);
        var statements = new List<DdlStatement>();
        foreach (var unique in source.UniqueConstraints)
        {
            // MySQL names keys per table; PostgreSQL names their indexes per schema, so the table's name goes first.
            var name = fromPostgres ? unique.Name : $"{plan.Target.Name}_{unique.Name}";
            statements.Add(new($"unique constraint {unique.Name}",
                $"ALTER TABLE {target} ADD CONSTRAINT {Quote(Name(plan, name))} UNIQUE ({QuoteList(unique.Columns.Select(plan.TargetColumn))})"));
        }

        foreach (var index in source.Indexes)
        {
            statements.Add(Index(plan, index, fromPostgres));
        }

        foreach (var check in source.Checks)
        {
            statements.Add(fromPostgres
                ? new($"check constraint {check.Name}", $"ALTER TABLE {target} ADD CONSTRAINT {Quote(check.Name)} {CheckClause(check.Expression)}")
                : new($"check constraint {check.Name}", null, "MySQL check expressions are not translated; recreate it in PostgreSQL's SQL"));
        }

        foreach (var column in plan.Columns.Where(c => c.Source.Type.Name == "enum" && !fromPostgres && c.Source.Type.EnumValues is { Count: > 0 }))
        {
            statements.Add(new($"ENUM members of {column.Name}",
                $"ALTER TABLE {target} ADD CONSTRAINT {Quote(Name(plan, $"{plan.Target.Name}_{column.Name}_enum"))} CHECK ({Quote(column.Name)} IN ({string.Join(", ", column.Source.Type.EnumValues!.Select(Literal))}))"));
        }

        foreach (var column in source.Columns.Where(c => c.IsGenerated && !fromPostgres))
        {
            statements.Add(new($"generated column {column.Name}", null, $"its MySQL expression ({column.GenerationExpression}) is not translated; add the column in PostgreSQL's SQL"));
        }

        foreach (var column in plan.Columns.Where(c => c.Source.Identity != IdentityKind.None && !CanBeIdentity(c)))
        {
            statements.Add(new($"identity of {column.Name}", null,
                $"a {column.Type.Sql} column cannot be an identity, so it was created without one (its values were loaded); map it to bigint with -TypeMapFile to keep it"));
        }

        foreach (var column in plan.Columns.Where(c => c.Source.Identity != IdentityKind.None && CanBeIdentity(c)))
        {
            // The load wrote explicit values; new rows must continue after the largest.
            statements.Add(new($"identity of {column.Name} restarted after the loaded rows", IdentityRestart(target, column)));
            if (column.Source.Identity == IdentityKind.Always)
            {
                statements.Add(IdentityAlways(plan.Target, column));
            }
        }

        foreach (var column in plan.Columns.Where(c => fromPostgres && c.Source.Identity == IdentityKind.None && c.Source.DefaultExpression is not null))
        {
            statements.Add(new($"default of {column.Name}", $"ALTER TABLE {target} ALTER COLUMN {Quote(column.Name)} SET DEFAULT {column.Source.DefaultExpression}"));
        }

        foreach (var foreignKey in source.ForeignKeys)
        {
            statements.Add(targetNames.TryGetValue(foreignKey.ReferencedTable, out var referenced)
                ? new($"foreign key {foreignKey.Name}",
                    $"ALTER TABLE {target} ADD CONSTRAINT {Quote(Name(plan, foreignKey.Name))} FOREIGN KEY ({QuoteList(foreignKey.Columns.Select(plan.TargetColumn))}) " +
                    $"REFERENCES {Quote(referenced)} ({QuoteList(foreignKey.ReferencedColumns.Select(plan.TargetColumn))}) ON DELETE {foreignKey.OnDelete} ON UPDATE {foreignKey.OnUpdate}")
                : new($"foreign key {foreignKey.Name}", null, $"the referenced table {foreignKey.ReferencedTable} is not part of this load"));
        }

        return statements;
    }

    public string DeleteByKeys(TableName target, IReadOnlyList<string> keyColumns, int rows) =>
        $"DELETE FROM {Quote(target)} WHERE ({QuoteList(keyColumns)}) IN ({DmlParameters.Rows(keyColumns.Count, rows)})";

    /// <summary>An enum type, kept when it already exists (another table uses it, or an earlier run made it).</summary>
    protected abstract string CreateEnumIfNotExists(TableName type, string labels);

    /// <summary>A column's collation clause, or empty.</summary>
    protected abstract string CollationClause(TargetColumn column);

    /// <summary>The identity's sequence set to continue after the largest loaded value; <paramref name="target"/> is quoted.</summary>
    protected virtual string IdentityRestart(string target, TargetColumn column) =>
        $"SELECT setval(pg_get_serial_sequence({Literal(target)}, {Literal(column.Name)}), coalesce(max({Quote(column.Name)}), 0) + 1, false) FROM {target}";

    /// <summary>A GENERATED ALWAYS identity of the source made ALWAYS again once the rows are in.</summary>
    protected virtual DdlStatement IdentityAlways(TableName target, TargetColumn column) =>
        new($"identity of {column.Name} made GENERATED ALWAYS", $"ALTER TABLE {Quote(target)} ALTER COLUMN {Quote(column.Name)} SET GENERATED ALWAYS");

    /// <summary>A secondary index of the source, translated.</summary>
    protected abstract DdlStatement Index(TablePlan plan, IndexModel index, bool fromPostgres);

    /// <summary>Identities are integers: BIGINT UNSIGNED AUTO_INCREMENT, as numeric(20,0), cannot be one.</summary>
    private static bool CanBeIdentity(TargetColumn column) => column.Type.WireType is "smallint" or "integer" or "bigint";

    protected string ColumnDefinition(TargetColumn column)
    {
        var definition = $"{Quote(column.Name)} {column.Type.Sql}";
        if (column.Source.Identity != IdentityKind.None && CanBeIdentity(column))
        {
            // BY DEFAULT while loading, so the source's values are kept (COPY cannot override GENERATED ALWAYS).
            definition += " GENERATED BY DEFAULT AS IDENTITY";
        }

        definition += CollationClause(column);
        return column.IsNullable ? definition : definition + " NOT NULL";
    }

    /// <summary>CREATE [UNIQUE] INDEX (or another kind, e.g. INVERTED INDEX) on the index's plain columns.</summary>
    protected DdlStatement ColumnIndex(TablePlan plan, IndexModel index, bool fromPostgres, string kind)
    {
        // MySQL names indexes per table; PostgreSQL and CockroachDB per schema, so the table's name goes first.
        var name = fromPostgres ? index.Name : $"{plan.Target.Name}_{index.Name}";
        return new($"index {index.Name}",
            $"CREATE {(index.IsUnique ? "UNIQUE " : "")}{kind} {Quote(Name(plan, name))} ON {Quote(plan.Target)} ({QuoteList(index.Columns.Select(plan.TargetColumn))})");
    }

    protected static DdlStatement NotTranslated(IndexModel index) =>
        new($"index {index.Name}", null, $"a {index.Method ?? "expression"} index is not translated: {index.SourceDefinition ?? string.Join(", ", index.Columns)}");

    protected static bool IsPostgresSource(TablePlan plan) => plan.SourceSyntax == SqlSyntax.Postgres;

    private static string CheckClause(string expression) =>
        expression.StartsWith("CHECK", StringComparison.OrdinalIgnoreCase) ? expression : $"CHECK ({expression})";

    protected static string Name(TablePlan plan, string name) => name.Length <= MaxIdentifierLength ? name : name[..MaxIdentifierLength];
}
