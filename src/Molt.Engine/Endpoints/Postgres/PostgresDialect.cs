using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Schema;
using static Molt.Engine.Endpoints.PgWire.PgWireSyntax;

namespace Molt.Engine.Endpoints.Postgres;

/// <summary>
/// PostgreSQL as a target: a PostgreSQL source keeps its own types, index definitions and collations. Spatial columns
/// are PostGIS geometries when the target database has the postgis extension (<paramref name="hasPostGis"/>, read while
/// planning: Molt never creates it), otherwise bytea.
/// </summary>
internal sealed class PostgresDialect(bool hasPostGis) : PgWireDialect
{
    /// <summary>A target without PostGIS.</summary>
    public PostgresDialect()
        : this(hasPostGis: false)
    {
    }

    public override string DisplayName => "PostgreSQL";

    public override bool SupportsImportInto => false;

    public override bool CanDeferPrimaryKey => true;

    public override bool GivesKeylessTablesHiddenRowId => false;

    public override long? MaxRowsPerTransaction => null;

    /// <summary>PostgreSQL takes any table: one without a primary key is loaded unsharded.</summary>
    public override void CheckTable(TableModel table)
    {
    }

    public override TargetType MapType(TableModel table, ColumnModel column, SqlSyntax sourceSyntax, TypeMapOverrides typeOverrides) =>
        PostgresTypeMapping.Map(table, column, sourceSyntax, typeOverrides, hasPostGis);

    /// <summary>
    /// One sorted build after COPY is much cheaper than maintaining the index through it (pgcopydb and pg_restore do the
    /// same). A resumed load may find the key already added.
    /// </summary>
    public override string? AddPrimaryKey(TablePlan plan) => plan.PrimaryKey.Count == 0 ? null
        : $"DO $molt$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {Literal(Quote(plan.Target))}::regclass AND contype = 'p') THEN " +
          $"ALTER TABLE {Quote(plan.Target)} ADD PRIMARY KEY ({QuoteList(plan.PrimaryKey)}); END IF; END $molt$";

    /// <summary>PostgreSQL has no IMPORT INTO; it loads with COPY only.</summary>
    public override string? ImportInto(TablePlan plan, IReadOnlyList<string> fileUrls) => null;

    public override string CopyFromStdin(TablePlan plan) => $"COPY {Quote(plan.Target)} ({QuoteList(plan.Columns.Select(c => c.Name))}) FROM STDIN (FORMAT binary)";

    public override string Upsert(TableName target, IReadOnlyList<string> columns, IReadOnlyList<string> keyColumns, int rows)
    {
        var updates = columns.Where(c => !keyColumns.Contains(c)).Select(c => $"{Quote(c)} = EXCLUDED.{Quote(c)}").ToList();
        var action = updates.Count == 0 ? "DO NOTHING" : "DO UPDATE SET " + string.Join(", ", updates);
        return $"INSERT INTO {Quote(target)} ({QuoteList(columns)}) VALUES {DmlParameters.Rows(columns.Count, rows)} ON CONFLICT ({QuoteList(keyColumns)}) {action}";
    }

    /// <summary>CREATE TYPE has no IF NOT EXISTS in PostgreSQL.</summary>
    protected override string CreateEnumIfNotExists(TableName type, string labels) =>
        $"DO $molt$ BEGIN CREATE TYPE {Quote(type)} AS ENUM ({labels}); EXCEPTION WHEN duplicate_object THEN NULL; END $molt$";

    protected override string CollationClause(TargetColumn column) =>
        column.Source.Collation is { } collation && column.Type.IsBinaryCompatible ? $" COLLATE {Quote(collation)}" : "";

    protected override DdlStatement Index(TablePlan plan, IndexModel index, bool fromPostgres)
    {
        if (fromPostgres && index.SourceDefinition is not null && plan.Target == plan.Source.Name)
        {
            return new($"index {index.Name}", index.SourceDefinition);
        }

        if (SpatialIndex(plan, index) is { } spatial)
        {
            return spatial;
        }

        return index.HasExpressions || index.Predicate is not null || index.Method is "fulltext" or "spatial" or "FULLTEXT" or "SPATIAL"
            ? NotTranslated(index)
            : ColumnIndex(plan, index, fromPostgres, "INDEX");
    }

    /// <summary>
    /// PostgreSQL has no ON UPDATE clause: a BEFORE UPDATE trigger sets the column when an update changed the row but not
    /// the column, as MySQL does. Molt's own sessions say molt.writing = on (<see cref="PostgresSessionSettings"/>): the
    /// trigger leaves the values replication writes as the source wrote them.
    /// </summary>
    protected override IReadOnlyList<DdlStatement> OnUpdate(TablePlan plan, TargetColumn column, string expression)
    {
        var name = Name(plan, $"{plan.Target.Name}_{column.Name}_on_update");
        var function = Quote(new TableName(plan.Target.Schema, name));
        var value = Quote(column.Name);
        return
        [
            new($"ON UPDATE of {column.Name}: trigger function",
                $"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $molt$ BEGIN " +
                $"IF current_setting('molt.writing', true) IS DISTINCT FROM 'on' AND NEW.{value} IS NOT DISTINCT FROM OLD.{value} AND NEW IS DISTINCT FROM OLD " +
                $"THEN NEW.{value} := {expression}; END IF; RETURN NEW; END $molt$"),
            new($"ON UPDATE of {column.Name}: trigger",
                $"CREATE TRIGGER {Quote(name)} BEFORE UPDATE ON {Quote(plan.Target)} FOR EACH ROW EXECUTE FUNCTION {function}()"),
        ];
    }
}
