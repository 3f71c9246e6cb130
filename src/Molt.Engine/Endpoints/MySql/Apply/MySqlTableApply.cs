using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.MySql.Apply;

/// <summary>
/// One failed-back table as the MySQL applier writes it: the change's row mapped to the original table's columns
/// (<see cref="TableApply"/>, shared with the pgwire applier), each value converted into the original column's type,
/// generated columns left for the original to compute.
/// </summary>
internal sealed class MySqlTableApply
{
    private readonly ColumnModel[] originals;
    private readonly ColumnModel[] keyOriginals;
    private readonly ZeroDateHandling zeroDates;

    private MySqlTableApply(TableApply rows, TableModel original, ZeroDateHandling zeroDates)
    {
        Rows = rows;
        this.zeroDates = zeroDates;
        originals = rows.Plan.Columns.Select(c => original.Column(c.Name)).ToArray();
        keyOriginals = rows.Keys.Select(k => original.Column(k.Name)).ToArray();
        Written = Enumerable.Range(0, originals.Length).Where(i => !originals[i].IsGenerated).ToArray();
        WrittenColumns = Written.Select(i => rows.Columns[i]).ToList();
        var written = WrittenColumns.ToList();
        ConflictOrdinals = rows.ConflictColumns.Select(c => written.IndexOf(c)).ToArray();
        SetOrdinals = Enumerable.Range(0, WrittenColumns.Count).Where(i => !ConflictOrdinals.Contains(i)).DefaultIfEmpty(ConflictOrdinals[0]).ToArray();
        HasSecondaryUniqueKey = original.UniqueConstraints.Any(u => u.Columns.Count != rows.ConflictColumns.Count || !u.Columns.All(rows.ConflictColumns.Contains));
    }

    public TableApply Rows { get; }

    public TableName Target => Rows.Target;

    /// <summary>The plan's ordinals of the columns written (not generated on the original).</summary>
    public IReadOnlyList<int> Written { get; }

    public IReadOnlyList<string> WrittenColumns { get; }

    /// <summary>The primary key's positions among the written values, naming a row in an upsert run.</summary>
    public IReadOnlyList<int> ConflictOrdinals { get; }

    /// <summary>
    /// True when the original has a unique key other than the one an upsert means (<see cref="TableApply.ConflictColumns"/>):
    /// ON DUPLICATE KEY UPDATE would also fire on that key and update whichever row holds the value, so such a table's
    /// rows are written by key instead (<see cref="MySqlApplySql.UpdateByKey"/>, then an INSERT when no row matched).
    /// </summary>
    public bool HasSecondaryUniqueKey { get; }

    /// <summary>The written columns an upsert sets (all but the conflict key's; the key itself where that is every column).</summary>
    public IReadOnlyList<int> SetOrdinals { get; }

    /// <exception cref="MoltException">A column of the plan is not in the original table (it changed since planning).</exception>
    public static MySqlTableApply Create(TablePlan plan, ChangeTable table, TableModel original, ZeroDateHandling zeroDates)
    {
        try
        {
            return new MySqlTableApply(TableApply.Create(plan, table), original, zeroDates);
        }
        catch (KeyNotFoundException ex)
        {
            throw new MoltException(MoltErrorKind.SchemaMismatch, "FailbackTablesChanged",
                $"The original table {plan.Target} no longer has a column failback writes: {ex.Message}",
                "Make the original table match the target table again, then start failback again.", ex) { Target = plan.Target.ToString() };
        }
    }

    /// <summary>The values of the written columns, each in its original type; <c>Present</c> as <see cref="TableApply.Row"/> gives it.</summary>
    public (object[] Values, bool[] Present) Row(RowImage image, RowImage? old)
    {
        var (values, present) = Rows.Row(image, old);
        var converted = new object[Written.Count];
        var known = new bool[Written.Count];
        for (var i = 0; i < Written.Count; i++)
        {
            var at = Written[i];
            known[i] = present[at];
            converted[i] = present[at] ? Value(values[at], Rows.Plan.Columns[at].Source, originals[at]) : DBNull.Value;
        }

        return (converted, known);
    }

    /// <summary>The change's key (<see cref="RowChange.Key"/>, in its key columns' order) in the original key columns' types.</summary>
    public object[] Key(IReadOnlyList<object?> key) =>
        key.Select((value, i) => Value(value, Rows.Keys[i].Source, keyOriginals[i])).ToArray();

    private object Value(object? value, ColumnModel target, ColumnModel original) =>
        MySqlFailbackValues.Convert(value as string ?? (value is null ? null : System.Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)), target, original,
            zeroDates);
}
