using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Npgsql;
using Npgsql.Replication.PgOutput.Messages;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// One planned table as a pgoutput Relation message describes it: the change model's table, where its key columns sit in
/// the stream's tuples, and, when the Relation differs from the plan, what changed (reported when a change of the table
/// is about to be delivered, so a difference seen only in transactions already applied stops nothing).
/// </summary>
internal sealed class ReplicatedRelation
{
    private ReplicatedRelation(ChangeTable table, int[] keyOrdinals, bool sendsFullOldRow, string? difference)
    {
        Table = table;
        KeyOrdinals = keyOrdinals;
        SendsFullOldRow = sendsFullOldRow;
        Difference = difference;
    }

    public ChangeTable Table { get; }

    /// <summary>The positions of <see cref="ChangeTable.KeyColumns"/> in the stream's tuples.</summary>
    public int[] KeyOrdinals { get; }

    /// <summary>REPLICA IDENTITY FULL: updates and deletes carry the whole old row.</summary>
    public bool SendsFullOldRow { get; }

    /// <summary>How the Relation differs from the plan (the table was altered on the source), or null when it matches.</summary>
    public string? Difference { get; }

    /// <summary>Stops the stream when the table no longer matches the plan; the change about to be delivered is not.</summary>
    /// <exception cref="MoltException">The table differs from the plan.</exception>
    public void RequireUnchanged()
    {
        if (Difference is not null)
        {
            throw new SourceTableChangedException(Table.Name, Difference,
                $"The source table {Table.Name} changed while it was replicated: {Difference}. The stream stopped before its next change; the checkpoint stands.",
                "Make the same change on the target table (or recreate it), then resume the replication.")
            { Target = Table.Name.ToString() };
        }
    }

    /// <summary>
    /// Builds the relation from the message, comparing its columns (names, order, types as format_type spells them) with the
    /// planned table's copied columns; generated columns are never in the stream.
    /// </summary>
    public static async Task<ReplicatedRelation> DescribeAsync(RelationMessage message, TableModel planned, TypeNames typeNames, CancellationToken cancellationToken)
    {
        var columns = message.Columns.Select(c => c.ColumnName).ToList();
        var types = await typeNames.NamesAsync(message.Columns.Select(c => (c.DataTypeId, c.TypeModifier)).ToList(), cancellationToken).ConfigureAwait(false);
        var difference = Compare(planned, columns, types);
        var full = message.ReplicaIdentity == RelationMessage.ReplicaIdentitySetting.AllColumns;
        List<string> key;
        var matchesByAllColumns = false;
        if (full)
        {
            matchesByAllColumns = !planned.HasPrimaryKey;
            key = matchesByAllColumns ? columns : planned.PrimaryKey.Where(columns.Contains).ToList();
        }
        else
        {
            key = message.Columns.Where(c => (c.Flags & RelationMessage.Column.ColumnFlags.PartOfKey) != 0).Select(c => c.ColumnName).ToList();
        }

        if (key.Count == 0)
        {
            difference ??= $"it has no replica identity any more (REPLICA IDENTITY {IdentityName(message.ReplicaIdentity)}), so updates and deletes cannot be matched";
        }

        var table = new ChangeTable(planned.Name, columns, key) { MatchesByAllColumns = matchesByAllColumns };
        return new ReplicatedRelation(table, key.Select(k => columns.IndexOf(k)).ToArray(), full, difference);
    }

    private static string? Compare(TableModel planned, List<string> columns, IReadOnlyList<string> types)
    {
        var plannedColumns = planned.CopiedColumns.ToList();
        var plannedNames = plannedColumns.Select(c => c.Name).ToList();
        var added = columns.Where(c => !plannedNames.Contains(c)).ToList();
        var dropped = plannedNames.Where(c => !columns.Contains(c)).ToList();
        var changes = new List<string>();
        changes.AddRange(added.Select(c => $"column \"{c}\" ({types[columns.IndexOf(c)]}) was added"));
        changes.AddRange(dropped.Select(c => $"column \"{c}\" was dropped or renamed"));
        for (var i = 0; i < columns.Count; i++)
        {
            var plannedColumn = plannedColumns.FirstOrDefault(c => c.Name == columns[i]);
            if (plannedColumn is not null && plannedColumn.Type.Declared != types[i])
            {
                changes.Add($"column \"{columns[i]}\" changed type from {plannedColumn.Type.Declared} to {types[i]}");
            }
        }

        if (changes.Count == 0 && !plannedNames.SequenceEqual(columns))
        {
            changes.Add($"its columns are now in the order {string.Join(", ", columns)}");
        }

        return changes.Count == 0 ? null : string.Join("; ", changes);
    }

    private static string IdentityName(RelationMessage.ReplicaIdentitySetting setting) => setting switch
    {
        RelationMessage.ReplicaIdentitySetting.Default => "DEFAULT without a primary key",
        RelationMessage.ReplicaIdentitySetting.IndexWithIndIsReplIdent => "USING INDEX of a dropped index",
        _ => "NOTHING",
    };
}
