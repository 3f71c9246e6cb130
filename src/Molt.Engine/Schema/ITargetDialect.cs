namespace Molt.Engine.Schema;

/// <summary>
/// What the load and apply engines need to know about the database they write to: how a source type is spelled
/// there, and the exact SQL for creating, emptying and writing tables. One implementation per target
/// (PostgreSQL, CockroachDB); every identifier it emits is quoted.
/// </summary>
internal interface ITargetDialect
{
    /// <summary>The product, as a user names it (PostgreSQL, CockroachDB), for messages and the plan.</summary>
    string DisplayName { get; }

    /// <summary>Whether the target loads CSV files with IMPORT INTO (<see cref="ImportInto"/> gives the statement).</summary>
    bool SupportsImportInto { get; }

    /// <summary>
    /// Whether a primary key can be added once the rows are in; false where the rows are stored by it, so adding it
    /// later rewrites the table.
    /// </summary>
    bool CanDeferPrimaryKey { get; }

    /// <summary>Whether a table created without a primary key gets a hidden one (CockroachDB's rowid).</summary>
    bool GivesKeylessTablesHiddenRowId { get; }

    /// <summary>
    /// Whether the load's whole DDL can be checked before any row is copied by running it in one transaction that is
    /// rolled back, with a savepoint around each statement so every refused one is named.
    /// </summary>
    bool ChecksDdlInRolledBackTransaction { get; }

    string Quote(string identifier);

    string Quote(TableName table);

    /// <summary>
    /// The target type for a source column. Overrides from the type-map file win. A type with no mapping throws
    /// <see cref="MoltException"/> (<see cref="MoltErrorKind.UnsupportedType"/>) naming table.column, the source
    /// type and the type-map entry that would fix it.
    /// </summary>
    TargetType MapType(TableModel table, ColumnModel column, SqlSyntax sourceSyntax, TypeMapOverrides typeOverrides);

    /// <summary>
    /// A source expression (a generated column's, a default's) in the target's SQL, or why it is not translated;
    /// <paramref name="column"/> gives a source column's target name, or null when the table has no such column.
    /// </summary>
    TranslatedExpression TranslateExpression(string expression, SqlSyntax sourceSyntax, Func<string, string?> column);

    /// <summary>
    /// Refuses, while planning and before any data moves, a source table this target cannot be given as it is
    /// (<see cref="MoltErrorKind.SchemaMismatch"/>), e.g. a table without a primary key where the target needs one.
    /// </summary>
    void CheckTable(TableModel table);

    /// <summary>
    /// The most rows one shard may hold, because a shard is copied in one transaction; null when the target has no such
    /// limit worth splitting for.
    /// </summary>
    long? MaxRowsPerTransaction { get; }

    /// <summary>Statements that must run before CREATE TABLE (e.g. CREATE TYPE for enums); idempotent.</summary>
    IReadOnlyList<string> CreateSupportingTypes(TablePlan plan);

    /// <summary>
    /// CREATE TABLE with the copied columns, NOT NULL and the primary key (unless <paramref name="deferPrimaryKey"/> and
    /// the target can add it later): everything else comes after the load.
    /// </summary>
    string CreateTable(TablePlan plan, bool deferPrimaryKey = false);

    /// <summary>
    /// The primary key, added (idempotently) once the table's rows are in, for a target that can build it from the whole
    /// table (faster than row by row); null where it must be declared with the table.
    /// </summary>
    string? AddPrimaryKey(TablePlan plan);

    /// <summary>
    /// One DROP of all <paramref name="targets"/>: foreign keys among them need no CASCADE when they go together, so
    /// without <paramref name="cascade"/> the server refuses rather than drop anything outside them.
    /// </summary>
    string DropTablesIfExist(IReadOnlyList<TableName> targets, bool cascade);

    /// <summary>
    /// One TRUNCATE of all <paramref name="targets"/>: a table referenced by a foreign key can only be emptied with the
    /// tables that reference it; <paramref name="cascade"/> also empties referencing tables not listed.
    /// </summary>
    string TruncateTables(IReadOnlyList<TableName> targets, bool cascade);

    /// <summary>
    /// Secondary indexes, unique constraints, checks and foreign keys, created after the data is in;
    /// <paramref name="loaded"/> holds the plans of every table loaded with this one, by source name (what a foreign key
    /// may reference).
    /// </summary>
    IReadOnlyList<DdlStatement> PostLoadStatements(TablePlan plan, IReadOnlyDictionary<TableName, TablePlan> loaded);

    /// <summary>
    /// The statement that loads CSV files (the load's CSV shard format) into the plan's table, or null where the
    /// target has no such bulk import.
    /// </summary>
    string? ImportInto(TablePlan plan, IReadOnlyList<string> fileUrls);

    /// <summary>The binary COPY that loads the plan's columns.</summary>
    string CopyFromStdin(TablePlan plan);

    /// <summary>The CSV COPY that loads the plan's columns from the load's CSV shard format.</summary>
    string CopyCsvFromStdin(TablePlan plan);

    /// <summary>
    /// An upsert of <paramref name="rows"/> rows by their primary key; parameters named @p0..@pN, row by row, each row's
    /// values in <paramref name="columns"/> order. The rows' keys must be distinct: CockroachDB refuses a multi-row UPSERT
    /// that names a key twice (https://www.cockroachlabs.com/docs/stable/upsert).
    /// </summary>
    string Upsert(TableName target, IReadOnlyList<string> columns, IReadOnlyList<string> keyColumns, int rows);

    /// <summary>
    /// A delete of <paramref name="rows"/> rows by their primary key; parameters named @p0..@pN, row by row, each row's
    /// key in <paramref name="keyColumns"/> order.
    /// </summary>
    string DeleteByKeys(TableName target, IReadOnlyList<string> keyColumns, int rows);
}

/// <summary>
/// A target column type: its SQL spelling in the target's DDL; <paramref name="WireType"/>, the pgwire type name
/// a binary COPY writes the value as (what Npgsql's <c>dataTypeName</c> takes: "integer", "numeric",
/// "timestamp with time zone", "text[]", or a created enum's qualified name); and whether values can pass from
/// the source without conversion (identical binary representation, so a PostgreSQL binary COPY stream can be
/// relayed as it is).
/// </summary>
public sealed record TargetType(string Sql, string WireType, bool IsBinaryCompatible)
{
    /// <summary>Why the mapping is not exact (a widening, a fallback), shown with -WhatIf; null when exact.</summary>
    public string? Note { get; init; }

    /// <summary>
    /// True when the value goes to the target in its text form (CSV COPY) rather than binary, because the target does
    /// not document how it decodes the type's binary form.
    /// </summary>
    public bool IsSentAsText { get; init; }

    /// <summary>
    /// The type a PostgreSQL source casts a column to when it is not binary compatible; null for <see cref="WireType"/>.
    /// Differs where the wire type's own output loses something (xml's declaration: read as text).
    /// </summary>
    public string? SourceCast { get; init; }

    /// <summary>
    /// True when <see cref="Note"/> names a fact of the source the target does not keep (a spatial column as bytea on a
    /// target without PostGIS): the plan reports it with the other facts not carried over.
    /// </summary>
    public bool IsReported { get; init; }

    public override string ToString() => Sql;
}

public sealed record TargetColumn(ColumnModel Source, string Name, TargetType Type, bool IsNullable);

/// <summary>One source table as it will be created and loaded on the target.</summary>
public sealed record TablePlan(TableModel Source, TableName Target, IReadOnlyList<TargetColumn> Columns, IReadOnlyList<string> PrimaryKey)
{
    /// <summary>The engine the source table lives in: what its expressions and index definitions are written for.</summary>
    public SqlSyntax SourceSyntax { get; init; } = SqlSyntax.Postgres;

    /// <summary>How source names become target names: <see cref="PrimaryKey"/> and every column name in the plan are target names.</summary>
    public IdentifierCase Names { get; init; } = IdentifierCase.Preserve;

    /// <summary>
    /// The source's generated columns whose expression the target computes. A generated column whose expression does not
    /// translate is in <see cref="Columns"/> instead, copied with its values, so that no column is ever dropped.
    /// </summary>
    public IReadOnlyList<GeneratedColumn> Generated { get; init; } = [];

    /// <summary>
    /// Set for replication when every row of the table was loaded from one snapshot later than the stream's start (a
    /// resumed load's): the source's own description of what that snapshot saw (ISourceSnapshot.Visibility). The change
    /// source skips this table's changes the snapshot already held: applied again, a keyless table's inserts would double.
    /// </summary>
    public string? LoadedSnapshot { get; init; }

    /// <summary>A source column's name on the target (for columns named by constraints and indexes).</summary>
    public string TargetColumn(string sourceColumn) => Names.Apply(sourceColumn);

    /// <summary>The positions in <see cref="Columns"/> of the primary key's columns, for naming a row.</summary>
    public IReadOnlyList<int> KeyOrdinals => PrimaryKey.Select(k => Columns.ToList().FindIndex(c => c.Name == k)).Where(i => i >= 0).ToList();

    /// <summary>True when a column must reach the target as text, so the table's shards are copied as CSV.</summary>
    public bool IsSentAsText => Columns.Any(c => c.Type.IsSentAsText);

    /// <summary>True when every column can be relayed without conversion.</summary>
    public bool IsBinaryCompatible => Columns.All(c => c.Type.IsBinaryCompatible);
}

/// <summary>A source expression in the target's SQL, or why it is not translated.</summary>
public sealed record TranslatedExpression(string? Sql, string? Reason)
{
    public bool IsTranslated => Sql is not null;
}

/// <summary>A generated column the target computes from its translated expression: it is not copied.</summary>
public sealed record GeneratedColumn(ColumnModel Source, string Name, TargetType Type, string Expression);

/// <summary>A DDL statement with what it is for, or the reason it cannot be translated (then Sql is null).</summary>
public sealed record DdlStatement(string Description, string? Sql, string? NotTranslatedReason = null)
{
    /// <summary>The target column the statement is about (a default, an identity, a generated expression); null for a table-level one.</summary>
    public string? Column { get; init; }
}
