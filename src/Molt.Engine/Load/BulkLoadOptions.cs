using Molt.Engine.Schema;
using Molt.Engine.State;

namespace Molt.Engine.Load;

public sealed record BulkLoadOptions
{
    public TableFilter Filter { get; init; } = TableFilter.All;

    public TableHandling TableHandling { get; init; } = TableHandling.None;

    /// <summary>
    /// Lets <see cref="TableHandling"/> take along what lies outside the selected tables: TRUNCATE ... CASCADE empties
    /// tables whose foreign keys reference them, DROP TABLE ... CASCADE drops other tables' foreign keys and views on
    /// them. Without it a load that would do so is refused before anything is written.
    /// </summary>
    public bool Cascade { get; init; }

    public TypeMapOverrides TypeMap { get; init; } = TypeMapOverrides.None;

    /// <summary>Row filters: a table ("schema.table" or "table", case-insensitive) to a predicate in the source's SQL.</summary>
    public IReadOnlyDictionary<string, string> Where { get; init; } = new Dictionary<string, string>();

    public int TableConcurrency { get; init; } = 4;

    public int ShardsPerTable { get; init; } = DefaultShardsPerTable;

    /// <summary>
    /// One stream per processor of this machine, from 2 to 4: each stream costs Molt a share of a core (converting rows,
    /// or relaying them), and more streams than cores only contend (measured in bench/RESULTS.md).
    /// </summary>
    public static int DefaultShardsPerTable => Math.Clamp(Environment.ProcessorCount, 2, 4);

    /// <summary>A table is split only into shards of at least this many (estimated) rows: small tables are one shard.</summary>
    public long MinRowsPerShard { get; init; } = 10_000;

    /// <summary>The run to continue; with <see cref="Resume"/> false a new run gets this id.</summary>
    public string? FetchId { get; init; }

    public bool Resume { get; init; }

    /// <summary>
    /// Which of the selection's options (tables, table handling, -Where, type map, target schema, identifier case) the
    /// caller set, as opposed to left at their defaults. With <see cref="Resume"/> those left out come from the run's
    /// record and those set must equal it.
    /// </summary>
    public SelectionParts GivenSelection { get; init; } = SelectionParts.All;

    /// <summary>
    /// With <see cref="TableHandling.DropAndRecreate"/> on PostgreSQL, whether tables are created without their primary key
    /// and the key built once each table's rows are in (as pgcopydb and pg_restore do): true for every table, false for
    /// none, null (the default) for the tables of at least <see cref="DeferPrimaryKeyMinRows"/> estimated rows, where one
    /// sorted build beats maintaining the key row by row (<see cref="PrimaryKeyTiming"/>). CockroachDB refuses true: a
    /// table's primary key is how it stores the rows.
    /// </summary>
    public bool? DeferPrimaryKey { get; init; }

    /// <summary>With <see cref="DeferPrimaryKey"/> null, the estimated rows from which a table's key is built after its rows.</summary>
    public long DeferPrimaryKeyMinRows { get; init; } = PrimaryKeyTiming.DefaultMinRows;

    /// <summary>
    /// CockroachDB target: a table without a primary key gets CockroachDB's hidden rowid key instead of being refused
    /// while planning.
    /// </summary>
    public bool AllowMissingPrimaryKey { get; init; }

    /// <summary>CockroachDB target: load through IMPORT INTO from CSV files instead of COPY; null for COPY.</summary>
    public ImportIntoOptions? Import { get; init; }

    /// <summary>MySQL/MariaDB source: table and column names as they are, or lower-cased.</summary>
    public IdentifierCase IdentifierCase { get; init; } = IdentifierCase.Preserve;

    /// <summary>The target schema for a MySQL/MariaDB source's tables (a PostgreSQL source keeps its schemas).</summary>
    public string TargetSchema { get; init; } = "public";
}
