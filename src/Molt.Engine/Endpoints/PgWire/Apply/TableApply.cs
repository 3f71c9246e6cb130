using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// One replicated table as the applier writes it: which value of a change's row image goes to which target column, which
/// target columns identify a row, and what a row conflicts on.
/// </summary>
internal sealed class TableApply
{
    private readonly int[] imageIndex;

    private TableApply(TablePlan plan, ChangeTable table, int[] imageIndex, IReadOnlyList<TargetColumn> keys)
    {
        Plan = plan;
        Table = table;
        this.imageIndex = imageIndex;
        Keys = keys;
        KeyColumns = keys.Select(k => k.Name).ToList();
        Match = keys.Select(k => new MatchColumn(k.Name, PgWireApplySql.ComparesAsText(k))).ToList();
        Columns = plan.Columns.Select(c => c.Name).ToList();
        ConflictColumns = plan.PrimaryKey.Count > 0 ? plan.PrimaryKey : KeyColumns;
        var columns = Columns.ToList();
        ConflictOrdinals = ConflictColumns.Select(c => columns.IndexOf(c)).ToArray();
        KeyOrdinals = KeyColumns.Select(c => columns.IndexOf(c)).ToArray();
    }

    public TablePlan Plan { get; }

    public ChangeTable Table { get; }

    public TableName Target => Plan.Target;

    /// <summary>Every target column, in plan order.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The target columns of the change's key, as planned (for their types).</summary>
    public IReadOnlyList<TargetColumn> Keys { get; }

    /// <summary>The target columns of the change's key (<see cref="ChangeTable.KeyColumns"/>), in its order.</summary>
    public IReadOnlyList<string> KeyColumns { get; }

    /// <summary>The key columns for matching a keyless row by value.</summary>
    public IReadOnlyList<MatchColumn> Match { get; }

    /// <summary>What an upsert conflicts on: the target's primary key, or the change's key (a replica identity index).</summary>
    public IReadOnlyList<string> ConflictColumns { get; }

    public IReadOnlyList<int> ConflictOrdinals { get; }

    /// <summary>Where each of <see cref="KeyColumns"/> is in a row of <see cref="Columns"/>.</summary>
    public IReadOnlyList<int> KeyOrdinals { get; }

    public bool MatchesByAllColumns => Table.MatchesByAllColumns;

    /// <summary>True when the change's key is what the upsert conflicts on, so that one key names one target row either way.</summary>
    public bool KeyIsConflictKey => !MatchesByAllColumns && KeyColumns.Count == ConflictColumns.Count && KeyColumns.All(ConflictColumns.Contains);

    /// <exception cref="MoltException">A planned column is missing from the stream's description of the table.</exception>
    public static TableApply Create(TablePlan plan, ChangeTable table)
    {
        var index = plan.Columns.Select(c => IndexOf(table.Columns, c.Source.Name)).ToArray();
        if (Array.IndexOf(index, -1) is var missing and >= 0)
        {
            throw new MoltException(MoltErrorKind.SchemaMismatch, "SchemaChanged",
                $"Table {table.Name}'s changes no longer carry column {plan.Columns[missing].Source.Name}, which the target table {plan.Target} was created with.",
                "Make the source and target tables match again (add the column back, or change the target and load the table again), then resume.")
            {
                Target = table.Name.ToString(),
            };
        }

        var keys = table.KeyColumns.Select(k => plan.Columns.FirstOrDefault(c => c.Source.Name == k)
            ?? throw new MoltException(MoltErrorKind.SchemaMismatch, "SchemaChanged",
                $"Table {table.Name}'s rows are identified by column {k}, which is not among the columns copied to {plan.Target}.",
                "Identify the source table's rows by copied columns (a primary key, or REPLICA IDENTITY FULL), then resume.") { Target = table.Name.ToString() })
            .ToList();
        return new TableApply(plan, table, index, keys);
    }

    /// <summary>
    /// The target row's values from <paramref name="image"/>, filling a column the source left out as unchanged from
    /// <paramref name="old"/> where that has it (REPLICA IDENTITY FULL sends the whole old row); null when a column
    /// stays unknown, so only the present ones may be written.
    /// </summary>
    public (object?[] Values, bool[] Present) Row(RowImage image, RowImage? old)
    {
        var values = new object?[imageIndex.Length];
        var present = new bool[imageIndex.Length];
        for (var i = 0; i < imageIndex.Length; i++)
        {
            var at = imageIndex[i];
            if (image.IsPresent(at))
            {
                (values[i], present[i]) = (image.Values[at], true);
            }
            else if (old is not null && old.IsPresent(at))
            {
                (values[i], present[i]) = (old.Values[at], true);
            }
        }

        return (values, present);
    }

    private static int IndexOf(IReadOnlyList<string> columns, string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i] == name)
            {
                return i;
            }
        }

        return -1;
    }
}
