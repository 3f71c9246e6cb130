using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.MySql.Replication;

/// <summary>The errors a binlog stream stops with when a planned table no longer is what was loaded.</summary>
internal static class BinlogSchemaChanges
{
    /// <summary>The same error the PostgreSQL source gives: the change about to be delivered is not, and the checkpoint stands.</summary>
    public static MoltException Changed(TableName table, string difference) =>
        new(MoltErrorKind.SchemaMismatch, "SchemaChanged",
            $"The source table {table} changed while it was replicated: {difference}. The stream stopped before that transaction; the checkpoint stands.",
            "Make the same change on the target table (or recreate it), then resume the replication.")
        { Target = table.ToString() };

    /// <summary>Compares a table as the catalog reads it now with the plan's reading; null when columns, order and types are the same.</summary>
    public static string? Compare(TableModel planned, TableModel? current)
    {
        if (current is null)
        {
            return "it was dropped or renamed";
        }

        var before = planned.Columns.OrderBy(c => c.Ordinal).ToList();
        var after = current.Columns.OrderBy(c => c.Ordinal).ToList();
        var changes = new List<string>();
        changes.AddRange(after.Where(a => before.All(b => b.Name != a.Name)).Select(a => $"column \"{a.Name}\" ({a.Type.Declared}) was added"));
        changes.AddRange(before.Where(b => after.All(a => a.Name != b.Name)).Select(b => $"column \"{b.Name}\" was dropped or renamed"));
        foreach (var column in after)
        {
            if (before.FirstOrDefault(b => b.Name == column.Name) is { } was && was.Type.Declared != column.Type.Declared)
            {
                changes.Add($"column \"{column.Name}\" changed type from {was.Type.Declared} to {column.Type.Declared}");
            }
        }

        if (changes.Count == 0 && !before.Select(c => c.Name).SequenceEqual(after.Select(c => c.Name)))
        {
            changes.Add($"its columns are now in the order {string.Join(", ", after.Select(c => c.Name))}");
        }

        if (changes.Count == 0 && !planned.PrimaryKey.SequenceEqual(current.PrimaryKey))
        {
            changes.Add(current.HasPrimaryKey ? $"its primary key is ({string.Join(", ", current.PrimaryKey)}) now" : "its primary key was dropped");
        }

        return changes.Count == 0 ? null : string.Join("; ", changes);
    }
}
