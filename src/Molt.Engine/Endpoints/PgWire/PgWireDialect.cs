using System.Globalization;
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

    public TranslatedExpression TranslateExpression(string expression, SqlSyntax sourceSyntax, Func<string, string?> column) =>
        sourceSyntax == SqlSyntax.Postgres ? new(expression, null) : MySqlExpressionTranslator.Translate(expression, column);

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
        // Not copied: the target computes them (both spell a stored generated column so:
        // https://www.postgresql.org/docs/15/ddl-generated-columns.html, https://www.cockroachlabs.com/docs/stable/computed-columns).
        definitions.AddRange(plan.Generated.Select(c => $"{Quote(c.Name)} {c.Type.Sql} GENERATED ALWAYS AS ({c.Expression}) STORED"));

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

    public IReadOnlyList<DdlStatement> PostLoadStatements(TablePlan plan, IReadOnlyDictionary<TableName, TablePlan> loaded)
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
                : MySqlCheck(plan, check));
        }

        foreach (var column in plan.Columns.Where(c => c.Source.Type.Name == "enum" && !fromPostgres && c.Source.Type.EnumValues is { Count: > 0 }))
        {
            statements.Add(new($"ENUM members of {column.Name}",
                $"ALTER TABLE {target} ADD CONSTRAINT {Quote(Name(plan, $"{plan.Target.Name}_{column.Name}_enum"))} CHECK ({Quote(column.Name)} IN ({string.Join(", ", column.Source.Type.EnumValues!.Select(Literal))}))"));
        }

        foreach (var column in plan.Columns.Where(c => c.Source.IsGenerated))
        {
            var reason = TranslateExpression(column.Source.GenerationExpression!, plan.SourceSyntax, SourceColumn(plan)).Reason;
            statements.Add(new($"generated column {column.Name}", null,
                $"copied as a plain column with the source's values, because its expression ({column.Source.GenerationExpression}) is not translated: {reason}"));
        }

        foreach (var column in plan.Columns.Where(c => c.Source.Identity != IdentityKind.None && !CanBeIdentity(c)))
        {
            statements.AddRange(column.Type.WireType == "numeric"
                ? SequenceDefault(plan, column)
                : [new($"identity of {column.Name}", null, $"a {column.Type.Sql} column cannot be an identity, so it was created without one (its values were loaded)")]);
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

        foreach (var column in plan.Columns.Where(c => c.Source.Identity == IdentityKind.None && c.Source.DefaultExpression is not null))
        {
            statements.Add(Default(plan, column));
        }

        foreach (var column in plan.Columns.Where(c => c.Source.OnUpdateExpression is not null))
        {
            var translated = MySqlExpressionTranslator.TranslateDefault(column.Source.OnUpdateExpression!, column.Type.WireType, SourceColumn(plan));
            statements.AddRange(translated.Sql is { } expression ? OnUpdate(plan, column, expression)
                : [new($"ON UPDATE of {column.Name}", null, $"ON UPDATE {column.Source.OnUpdateExpression} is not translated because {translated.Reason}")]);
        }

        foreach (var column in plan.Columns.Where(c => c.Source.Type.Name == "set" && !fromPostgres && c.Source.Type.EnumValues is { Count: > 0 }))
        {
            // MySQL returns a SET's members comma-separated in declaration order; the check keeps to its members.
            var member = "(" + string.Join("|", column.Source.Type.EnumValues!.Select(RegexMember)) + ")";
            statements.Add(new($"SET members of {column.Name}",
                $"ALTER TABLE {target} ADD CONSTRAINT {Quote(Name(plan, $"{plan.Target.Name}_{column.Name}_set"))} CHECK ({Quote(column.Name)} = '' OR {Quote(column.Name)} ~ {Literal($"^{member}(,{member})*$")})"));
        }

        foreach (var column in plan.Columns.Where(c => c.Type.IsReported))
        {
            statements.Add(new($"type of {column.Name}", null, $"{column.Source.Type.Declared} becomes {column.Type.Sql}: {column.Type.Note}"));
        }

        foreach (var foreignKey in source.ForeignKeys)
        {
            statements.Add(ForeignKey(plan, foreignKey, loaded));
        }

        return statements;
    }

    public string DeleteByKeys(TableName target, IReadOnlyList<string> keyColumns, int rows) =>
        $"DELETE FROM {Quote(target)} WHERE ({QuoteList(keyColumns)}) IN ({DmlParameters.Rows(keyColumns.Count, rows)})";

    /// <summary>An enum type, kept when it already exists (another table uses it, or an earlier run made it).</summary>
    protected abstract string CreateEnumIfNotExists(TableName type, string labels);

    /// <summary>A column's collation clause, or empty.</summary>
    protected abstract string CollationClause(TargetColumn column);

    /// <summary>
    /// MySQL's ON UPDATE CURRENT_TIMESTAMP: the column takes <paramref name="expression"/> whenever a row is updated without
    /// setting it, but never while Molt writes the source's own values.
    /// </summary>
    protected abstract IReadOnlyList<DdlStatement> OnUpdate(TablePlan plan, TargetColumn column, string expression);

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

    /// <summary>
    /// A MySQL SPATIAL index as the GiST index PostGIS and CockroachDB build on a geometry column
    /// (https://postgis.net/docs/using_postgis_dbmanagement.html#gist_indexes, https://www.cockroachlabs.com/docs/stable/spatial-indexes);
    /// null when its column is not a geometry on the target (bytea without PostGIS).
    /// </summary>
    protected DdlStatement? SpatialIndex(TablePlan plan, IndexModel index)
    {
        var column = index.Columns.Count == 1 ? plan.Columns.FirstOrDefault(c => c.Name == plan.TargetColumn(index.Columns[0])) : null;
        return index.Method is "spatial" && column?.Type.WireType == "geometry"
            ? new($"index {index.Name}", $"CREATE INDEX {Quote(Name(plan, $"{plan.Target.Name}_{index.Name}"))} ON {Quote(plan.Target)} USING GIST ({Quote(column.Name)})")
            : null;
    }

    protected static DdlStatement NotTranslated(IndexModel index) =>
        new($"index {index.Name}", null, $"a {index.Method ?? "expression"} index is not translated: {index.SourceDefinition ?? string.Join(", ", index.Columns)}");

    protected static bool IsPostgresSource(TablePlan plan) => plan.SourceSyntax == SqlSyntax.Postgres;

    /// <summary>
    /// BIGINT UNSIGNED AUTO_INCREMENT (MySQL's SERIAL) is numeric(20,0) on the target, which cannot be an identity (identities
    /// are integers on both targets): it stays auto-numbered through a sequence owned by the column (dropped with the
    /// table), its default cast to the column's type, continuing after the largest loaded value.
    /// </summary>
    private IReadOnlyList<DdlStatement> SequenceDefault(TablePlan plan, TargetColumn column)
    {
        var sequence = Quote(new TableName(plan.Target.Schema, Name(plan, $"{plan.Target.Name}_{column.Name}_seq")));
        var target = Quote(plan.Target);
        return
        [
            new($"sequence numbering {column.Name}", $"CREATE SEQUENCE IF NOT EXISTS {sequence}"),
            new($"sequence numbering {column.Name} owned by it", $"ALTER SEQUENCE {sequence} OWNED BY {target}.{Quote(column.Name)}"),
            new($"default of {column.Name} from its sequence", $"ALTER TABLE {target} ALTER COLUMN {Quote(column.Name)} SET DEFAULT nextval({Literal(sequence)})::{column.Type.Sql}"),
            new($"sequence numbering {column.Name} continued after the loaded rows",
                // A sequence is a bigint: past 2^63 - 1 (values only UNSIGNED holds) it stops at its maximum with an error, never wraps.
                $"SELECT setval({Literal(sequence)}, least(coalesce(max({Quote(column.Name)}), 0), 9223372036854775806)::bigint + 1, false) FROM {target}"),
        ];
    }

    private DdlStatement ForeignKey(TablePlan plan, ForeignKeyModel foreignKey, IReadOnlyDictionary<TableName, TablePlan> loaded)
    {
        var description = $"foreign key {foreignKey.Name}";
        if (!loaded.TryGetValue(foreignKey.ReferencedTable, out var referenced))
        {
            return new(description, null, $"the referenced table {foreignKey.ReferencedTable} is not part of this load");
        }

        // InnoDB lets a key reference any indexed columns; PostgreSQL and CockroachDB only a primary key or unique constraint.
        var keys = referenced.Source.UniqueConstraints.Select(u => u.Columns).Prepend(referenced.Source.PrimaryKey);
        if (!keys.Any(k => k.Count == foreignKey.ReferencedColumns.Count && !k.Except(foreignKey.ReferencedColumns, StringComparer.OrdinalIgnoreCase).Any()))
        {
            return new(description, null,
                $"it references ({string.Join(", ", foreignKey.ReferencedColumns)}) of {foreignKey.ReferencedTable}, which are not its primary key or a unique key; " +
                "the target only accepts a reference to unique columns: add a unique constraint there if the values are unique, then the foreign key");
        }

        return new(description,
            $"ALTER TABLE {Quote(plan.Target)} ADD CONSTRAINT {Quote(Name(plan, foreignKey.Name))} FOREIGN KEY ({QuoteList(foreignKey.Columns.Select(plan.TargetColumn))}) " +
            $"REFERENCES {Quote(referenced.Target)} ({QuoteList(foreignKey.ReferencedColumns.Select(referenced.TargetColumn))}) ON DELETE {foreignKey.OnDelete} ON UPDATE {foreignKey.OnUpdate}");
    }

    /// <summary>A SET member in a regular expression: every character but letters and digits escaped.</summary>
    private static string RegexMember(string member) =>
        string.Concat(member.Select(c => char.IsLetterOrDigit(c) || c == ' ' ? c.ToString(CultureInfo.InvariantCulture) : "\\" + c));

    private DdlStatement Default(TablePlan plan, TargetColumn column)
    {
        var description = $"default of {column.Name}";
        var expression = column.Source.DefaultExpression!;
        var translated = IsPostgresSource(plan) ? new TranslatedExpression(expression, null)
            : MySqlExpressionTranslator.TranslateDefault(expression, column.Type.WireType, SourceColumn(plan));
        return translated.Sql is { } sql
            ? new(description, $"ALTER TABLE {Quote(plan.Target)} ALTER COLUMN {Quote(column.Name)} SET DEFAULT {sql}")
            : new(description, null, $"the default {expression} is not translated because {translated.Reason}; set it in PostgreSQL's SQL");
    }

    private DdlStatement MySqlCheck(TablePlan plan, CheckConstraintModel check)
    {
        var description = $"check constraint {check.Name}";
        if (!check.IsEnforced)
        {
            return new(description, null, $"it is NOT ENFORCED on the source, so its rows may break it: {check.Expression}");
        }

        var translated = MySqlExpressionTranslator.Translate(check.Expression, SourceColumn(plan));
        return translated.Sql is { } sql
            ? new(description, $"ALTER TABLE {Quote(plan.Target)} ADD CONSTRAINT {Quote(Name(plan, check.Name))} CHECK ({sql})")
            : new(description, null, $"its MySQL expression ({check.Expression}) is not translated because {translated.Reason}; recreate it in PostgreSQL's SQL");
    }

    private static Func<string, string?> SourceColumn(TablePlan plan) => TablePlanner.TargetColumnNames(plan.Source, plan.Names);

    private static string CheckClause(string expression) =>
        expression.StartsWith("CHECK", StringComparison.OrdinalIgnoreCase) ? expression : $"CHECK ({expression})";

    protected static string Name(TablePlan plan, string name) => name.Length <= MaxIdentifierLength ? name : name[..MaxIdentifierLength];
}
