using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Schema;
using static Molt.Engine.Endpoints.PgWire.PgWireSyntax;

namespace Molt.Engine.Endpoints.Cockroach;

/// <summary>What a CockroachDB target does with a source table that has no primary key.</summary>
internal enum MissingPrimaryKey
{
    /// <summary>Refuse the table while planning, before any data moves.</summary>
    Refuse,

    /// <summary>
    /// Create it without one: CockroachDB then adds a hidden <c>rowid INT8 DEFAULT unique_rowid()</c> primary key
    /// (https://www.cockroachlabs.com/docs/stable/primary-key).
    /// </summary>
    AddRowId,
}

/// <summary>
/// CockroachDB as a target. What it shares with PostgreSQL (DROP/TRUNCATE, constraints and foreign keys after the data,
/// identity columns BY DEFAULT, https://www.cockroachlabs.com/docs/stable/create-table#identity-columns) comes from
/// <see cref="PgWireDialect"/>; what differs is here: its types, enum creation, inverted and spatial indexes, identities
/// never made ALWAYS and restarted only when rows were loaded, binary COPY's older spelling, UPSERT, a primary key
/// required by choice, and shards sized for its transactions.
/// </summary>
internal sealed class CockroachDialect(MissingPrimaryKey missingPrimaryKey) : PgWireDialect
{
    private static readonly string[] TrigramOperatorClasses = ["gin_trgm_ops", "gist_trgm_ops"];

    /// <summary>
    /// A shard is copied inside one explicit transaction, so its COPY commits atomically
    /// (https://www.cockroachlabs.com/docs/stable/copy); CockroachDB splits mutations into 4 MiB batches under a
    /// 64 MiB Raft command limit but keeps every intent of a transaction until it commits, and large transactions are
    /// the ones contention and retries hurt most. 100,000 rows keeps a shard of rows up to a few hundred bytes in the
    /// tens of megabytes.
    /// </summary>
    public const long RowsPerTransaction = 100_000;

    public override string DisplayName => "CockroachDB";

    public override bool SupportsImportInto => true;

    /// <summary>CockroachDB stores a table's rows by its primary key (https://www.cockroachlabs.com/docs/stable/primary-key).</summary>
    public override bool CanDeferPrimaryKey => false;

    public override bool GivesKeylessTablesHiddenRowId => true;

    public override long? MaxRowsPerTransaction => RowsPerTransaction;

    public override void CheckTable(TableModel table)
    {
        if (!table.HasPrimaryKey && missingPrimaryKey == MissingPrimaryKey.Refuse)
        {
            throw new MoltException(MoltErrorKind.SchemaMismatch, "MissingPrimaryKey",
                $"Table {table.Name} has no primary key. CockroachDB distributes and looks up rows by their primary key; without one it adds a hidden rowid column, and replication and verification cannot match rows.",
                "Add a primary key on the source (best), pass -AllowMissingPrimaryKey to accept CockroachDB's hidden rowid key, or leave the table out with -ExcludeTable.")
            {
                Target = table.Name.ToString(),
            };
        }
    }

    /// <summary>
    /// The primary key is how CockroachDB stores and splits a table: it is declared with the table, and changing it
    /// later rewrites the table (https://www.cockroachlabs.com/docs/stable/alter-table#alter-primary-key).
    /// </summary>
    public override string? AddPrimaryKey(TablePlan plan) => null;

    public override TargetType MapType(TableModel table, ColumnModel column, SqlSyntax sourceSyntax, TypeMapOverrides typeOverrides) =>
        CockroachTypeMapping.Map(table, column, sourceSyntax, typeOverrides);

    /// <summary>
    /// The COPY page lists BINARY as a bare option ("WITH BINARY"), PostgreSQL's pre-9.0 spelling, which PostgreSQL still
    /// accepts; PostgreSQL's "(FORMAT binary)" list is not in CockroachDB's grammar.
    /// </summary>
    public override string CopyFromStdin(TablePlan plan) => $"COPY {Quote(plan.Target)} ({QuoteList(plan.Columns.Select(c => c.Name))}) FROM STDIN WITH BINARY";

    /// <summary>
    /// IMPORT INTO an existing table from CSV files (https://www.cockroachlabs.com/docs/stable/import-into): the files
    /// quote as RFC 4180 and write NULL as an unquoted \N, which nullif names. The table is offline while it runs and
    /// keeps its earlier rows if the import fails.
    /// </summary>
    public override string ImportInto(TablePlan plan, IReadOnlyList<string> fileUrls) =>
        $"IMPORT INTO {Quote(plan.Target)} ({QuoteList(plan.Columns.Select(c => c.Name))}) CSV DATA ({string.Join(", ", fileUrls.Select(Literal))}) " +
        $"WITH nullif = {Literal(Load.CsvShard.Null)}";

    /// <summary>
    /// UPSERT by primary key (https://www.cockroachlabs.com/docs/stable/upsert), which writes without reading first only
    /// on a table without secondary indexes (https://www.cockroachlabs.com/docs/stable/insert-vs-upsert). A batch that
    /// names one key twice is refused, so the caller keeps only each key's last row.
    /// </summary>
    public override string Upsert(TableName target, IReadOnlyList<string> columns, IReadOnlyList<string> keyColumns, int rows) =>
        $"UPSERT INTO {Quote(target)} ({QuoteList(columns)}) VALUES {DmlParameters.Rows(columns.Count, rows)}";

    /// <summary>CockroachDB's CREATE TYPE takes IF NOT EXISTS (https://www.cockroachlabs.com/docs/stable/create-type).</summary>
    protected override string CreateEnumIfNotExists(TableName type, string labels) => $"CREATE TYPE IF NOT EXISTS {Quote(type)} AS ENUM ({labels})";

    /// <summary>
    /// Collations are dropped: CockroachDB's are ICU locales named differently from PostgreSQL's and MySQL's
    /// (https://www.cockroachlabs.com/docs/stable/collate), and a collated string is a distinct type there.
    /// </summary>
    protected override string CollationClause(TargetColumn column) => "";

    /// <summary>
    /// Plain indexes are rebuilt from their columns. Expression and partial indexes exist in CockroachDB, but their
    /// expressions are in the source's SQL, so they are reported rather than guessed at; so are GIN and GiST indexes
    /// CockroachDB has no equivalent for (see <see cref="InvertedIndex"/>).
    /// </summary>
    protected override DdlStatement Index(TablePlan plan, IndexModel index, bool fromPostgres)
    {
        if (SpatialIndex(plan, index) is { } spatial)
        {
            return spatial;
        }

        if (index.HasExpressions || index.Predicate is not null || index.Method is "fulltext" or "spatial" or "FULLTEXT" or "SPATIAL")
        {
            return NotTranslated(index);
        }

        return index.Method is "gin" or "gist" ? InvertedIndex(plan, index) : ColumnIndex(plan, index, fromPostgres, "INDEX");
    }

    /// <summary>
    /// A PostgreSQL GIN or GiST index in the syntax CockroachDB documents for its column type
    /// (https://www.cockroachlabs.com/docs/stable/inverted-indexes: "The last indexed column must be one of the inverted
    /// types"): JSONB, arrays and TSVECTOR as CREATE INVERTED INDEX; spatial columns only as USING GIST
    /// (https://www.cockroachlabs.com/docs/stable/create-index: "spatial indexes do not support an alternate CREATE
    /// INVERTED INDEX ... syntax"); trigram indexes with their method and opclass, which they need
    /// (https://www.cockroachlabs.com/docs/stable/trigram-indexes). Anything else (GiST on inet, ranges or btree_gist
    /// scalars) has no CockroachDB equivalent and is reported.
    /// </summary>
    private DdlStatement InvertedIndex(TablePlan plan, IndexModel index)
    {
        var last = plan.Columns.FirstOrDefault(c => c.Name == plan.TargetColumn(index.Columns[^1]));
        var wire = last?.Type.WireType ?? "";
        var definition = index.SourceDefinition ?? "";
        var trigram = TrigramOperatorClasses.FirstOrDefault(o => definition.Contains(o, StringComparison.OrdinalIgnoreCase));
        if (index.Columns.Count == 1 && last is not null)
        {
            if (trigram is not null && wire is ("text" or "character varying" or "character"))
            {
                return UsingIndex(plan, index, $"{index.Method!.ToUpperInvariant()} ({Quote(last.Name)} {trigram})");
            }

            if (index.Method == "gist" && wire is ("geometry" or "geography"))
            {
                return UsingIndex(plan, index, $"GIST ({Quote(last.Name)})");
            }
        }

        if (trigram is null && (wire is ("jsonb" or "tsvector") || wire.EndsWith("[]", StringComparison.Ordinal)))
        {
            return ColumnIndex(plan, index, fromPostgres: true, "INVERTED INDEX");
        }

        return new($"index {index.Name}", null,
            $"a {index.Method} index on {QuoteList(index.Columns)} ({(wire == "" ? "an expression" : last!.Type.Sql)}) has no CockroachDB equivalent: " +
            $"{index.SourceDefinition ?? string.Join(", ", index.Columns)}");
    }

    private DdlStatement UsingIndex(TablePlan plan, IndexModel index, string methodAndColumn) =>
        new($"index {index.Name}", $"CREATE INDEX {Quote(Name(plan, index.Name))} ON {Quote(plan.Target)} USING {methodAndColumn}");

    /// <summary>
    /// Only after rows were loaded: CockroachDB's setval(..., false) stores the value less the increment
    /// (https://www.cockroachlabs.com/docs/stable/create-sequence), which for an empty table would be 0, below the
    /// default MINVALUE 1; an empty table's sequence already starts at 1.
    /// </summary>
    protected override string IdentityRestart(string target, TargetColumn column) =>
        $"SELECT setval(pg_get_serial_sequence({Literal(target)}, {Literal(column.Name)}), max({Quote(column.Name)}) + 1, false) FROM {target} " +
        $"HAVING max({Quote(column.Name)}) IS NOT NULL";

    /// <summary>
    /// CockroachDB's own ON UPDATE: evaluated when a row is updated without setting the column
    /// (https://www.cockroachlabs.com/docs/v22.1/alter-column, alter_column_on_update; release note of v21.2), so the
    /// UPSERTs of replication, which set every column, keep the source's values.
    /// </summary>
    protected override IReadOnlyList<DdlStatement> OnUpdate(TablePlan plan, TargetColumn column, string expression) =>
        [new($"ON UPDATE of {column.Name}", $"ALTER TABLE {Quote(plan.Target)} ALTER COLUMN {Quote(column.Name)} SET ON UPDATE {expression}")];

    /// <summary>
    /// Kept GENERATED BY DEFAULT: CockroachDB has no OVERRIDING SYSTEM VALUE, so an ALWAYS identity would refuse the
    /// explicit ids replication writes (https://www.cockroachlabs.com/docs/stable/create-table#identity-columns), and
    /// SET GENERATED ALWAYS is a syntax error before v24.1 (release notes v24.1.0-alpha.3).
    /// </summary>
    protected override DdlStatement IdentityAlways(TableName target, TargetColumn column) =>
        new($"identity of {column.Name} made GENERATED ALWAYS", null,
            "kept GENERATED BY DEFAULT: CockroachDB has no OVERRIDING SYSTEM VALUE, so an ALWAYS identity would refuse the ids replication writes; " +
            "make it ALWAYS after cutover if you need it (ALTER TABLE ... ALTER COLUMN ... SET GENERATED ALWAYS, v24.1 or newer)");
}
