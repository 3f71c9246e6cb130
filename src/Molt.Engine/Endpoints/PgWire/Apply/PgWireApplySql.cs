using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>A column a keyless row is matched on; <paramref name="AsText"/> when its type has no equality operator.</summary>
internal sealed record MatchColumn(string Name, bool AsText);

/// <summary>
/// The statements an applier needs beyond the dialect's upsert and batched delete (which <see cref="Dialect"/> spells):
/// updates of the columns a change carries, inserts and one-row matches for tables without a key, and the target's own
/// position. Parameters are named @p0..@pN in the order the arguments list them, and are sent untyped, so the server
/// reads each value's text with the input function of the column it is compared with or assigned to, as a COPY does.
/// </summary>
internal abstract class PgWireApplySql(ITargetDialect dialect)
{
    /// <summary>
    /// Types PostgreSQL gives no equality operator (so IS NOT DISTINCT FROM fails on them): rows are matched on their text
    /// form, which is the value's canonical output on both sides.
    /// </summary>
    private static readonly HashSet<string> NoEquality = new(StringComparer.Ordinal)
    {
        "json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle",
    };

    public ITargetDialect Dialect => dialect;

    /// <summary>The query that reads the target's own position as text.</summary>
    public abstract string TargetPositionQuery { get; }

    public abstract SourcePosition ParseTargetPosition(string text);

    /// <summary>Deletes one row whose every column equals the parameters (a table without a key may hold duplicates).</summary>
    public abstract string DeleteOneMatching(TableName target, IReadOnlyList<MatchColumn> match);

    /// <summary>Sets <paramref name="columns"/> (parameters first) in one row whose columns equal the following parameters.</summary>
    public abstract string UpdateOneMatching(TableName target, IReadOnlyList<string> columns, IReadOnlyList<MatchColumn> match);

    /// <summary>The statements that empty <paramref name="tables"/> (a source TRUNCATE) inside the apply transaction.</summary>
    public abstract IReadOnlyList<string> EmptyTables(IReadOnlyList<TablePlan> tables, bool cascade);

    public static bool ComparesAsText(TargetColumn column) => NoEquality.Contains(column.Type.WireType);

    /// <summary>A plain multi-row INSERT, for tables without a key (nothing to conflict on).</summary>
    public string InsertRows(TableName target, IReadOnlyList<string> columns, int rows) =>
        $"INSERT INTO {dialect.Quote(target)} ({QuoteList(columns)}) VALUES {DmlParameters.Rows(columns.Count, rows)}";

    /// <summary>Sets <paramref name="columns"/> (parameters first) in the row whose key equals the following parameters.</summary>
    public string UpdateByKey(TableName target, IReadOnlyList<string> columns, IReadOnlyList<string> keyColumns) =>
        $"UPDATE {dialect.Quote(target)} SET {Assignments(columns)} WHERE {string.Join(" AND ", keyColumns.Select((k, i) => $"{dialect.Quote(k)} = @p{columns.Count + i}"))}";

    protected string Assignments(IReadOnlyList<string> columns) => string.Join(", ", columns.Select((c, i) => $"{dialect.Quote(c)} = @p{i}"));

    protected string Matching(IReadOnlyList<MatchColumn> match, int firstParameter) =>
        string.Join(" AND ", match.Select((m, i) => m.AsText
            ? $"{dialect.Quote(m.Name)}::text IS NOT DISTINCT FROM @p{firstParameter + i}::text"
            : $"{dialect.Quote(m.Name)} IS NOT DISTINCT FROM @p{firstParameter + i}"));

    protected string QuoteList(IEnumerable<string> columns) => string.Join(", ", columns.Select(dialect.Quote));
}

/// <summary>PostgreSQL: one row of duplicates is named by its physical address.</summary>
internal sealed class PostgresApplySql(ITargetDialect dialect) : PgWireApplySql(dialect)
{
    /// <summary>The current WAL write position: a logical slot created on this server later starts at or after it.</summary>
    public override string TargetPositionQuery => "SELECT pg_current_wal_lsn()::text";

    public override SourcePosition ParseTargetPosition(string text) => PostgresLsn.Parse(text);

    /// <summary>PostgreSQL's TRUNCATE is transactional: it commits or rolls back with the batch.</summary>
    public override IReadOnlyList<string> EmptyTables(IReadOnlyList<TablePlan> tables, bool cascade) =>
        [Dialect.TruncateTables(tables.Select(t => t.Target).ToList(), cascade)];

    /// <summary>
    /// ctid alone is not unique in a partitioned table (each partition has its own), so the row is named by tableoid and
    /// ctid together.
    /// </summary>
    public override string DeleteOneMatching(TableName target, IReadOnlyList<MatchColumn> match) =>
        $"DELETE FROM {Dialect.Quote(target)} WHERE (tableoid, ctid) = (SELECT tableoid, ctid FROM {Dialect.Quote(target)} WHERE {Matching(match, 0)} LIMIT 1)";

    public override string UpdateOneMatching(TableName target, IReadOnlyList<string> columns, IReadOnlyList<MatchColumn> match) =>
        $"UPDATE {Dialect.Quote(target)} SET {Assignments(columns)} WHERE (tableoid, ctid) = " +
        $"(SELECT tableoid, ctid FROM {Dialect.Quote(target)} WHERE {Matching(match, columns.Count)} LIMIT 1)";
}

/// <summary>
/// CockroachDB: no ctid, but DELETE and UPDATE take LIMIT (https://www.cockroachlabs.com/docs/stable/delete,
/// https://www.cockroachlabs.com/docs/stable/update: "limit_clause").
/// </summary>
internal sealed class CockroachApplySql(ITargetDialect dialect) : PgWireApplySql(dialect)
{
    /// <summary>
    /// "cluster_logical_timestamp() → decimal: Returns the logical time of the current transaction as a CockroachDB HLC in
    /// decimal form" (https://www.cockroachlabs.com/docs/stable/functions-and-operators): wall nanoseconds, a dot, the
    /// ten-digit logical counter, the form a changefeed's cursor takes.
    /// </summary>
    public override string TargetPositionQuery => "SELECT cluster_logical_timestamp()::STRING";

    public override SourcePosition ParseTargetPosition(string text) => CockroachHlc.Parse(text);

    /// <summary>
    /// DELETE, not TRUNCATE: "TRUNCATE is a schema change, and as such is not transactional"
    /// (https://www.cockroachlabs.com/docs/stable/truncate), so it could not roll back with a failed batch nor be followed by
    /// the transaction's later writes. A referencing table is emptied before the table it references, as foreign keys are
    /// checked per statement; the source's TRUNCATE lists every table it emptied, those of CASCADE too.
    /// </summary>
    public override IReadOnlyList<string> EmptyTables(IReadOnlyList<TablePlan> tables, bool cascade)
    {
        var left = tables.ToList();
        var statements = new List<string>();
        while (left.Count > 0)
        {
            var next = left.FirstOrDefault(t => !left.Any(o => o != t && o.Source.ForeignKeys.Any(f => f.ReferencedTable == t.Source.Name))) ?? left[0];
            statements.Add($"DELETE FROM {Dialect.Quote(next.Target)}");
            left.Remove(next);
        }

        return statements;
    }

    public override string DeleteOneMatching(TableName target, IReadOnlyList<MatchColumn> match) =>
        $"DELETE FROM {Dialect.Quote(target)} WHERE {Matching(match, 0)} LIMIT 1";

    public override string UpdateOneMatching(TableName target, IReadOnlyList<string> columns, IReadOnlyList<MatchColumn> match) =>
        $"UPDATE {Dialect.Quote(target)} SET {Assignments(columns)} WHERE {Matching(match, columns.Count)} LIMIT 1";
}
