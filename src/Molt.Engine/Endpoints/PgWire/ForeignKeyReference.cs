using Molt.Engine.Load;
using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>A foreign key: the table that declares it, its name, and the table it references.</summary>
internal sealed record ForeignKeyReference(TableName Table, string Name, TableName Referenced)
{
    /// <summary>Reads foreign keys from a query whose rows are: schema, table, constraint name, referenced schema, referenced table.</summary>
    public static async Task<IReadOnlyList<ForeignKeyReference>> ReadAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        var foreignKeys = new List<ForeignKeyReference>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            foreignKeys.Add(new ForeignKeyReference(new TableName(reader.GetString(0), reader.GetString(1)), reader.GetString(2),
                new TableName(reader.GetString(3), reader.GetString(4))));
        }

        return foreignKeys;
    }

    /// <summary>Tables outside <paramref name="tables"/> that must be emptied with them, as TRUNCATE ... CASCADE follows foreign keys transitively.</summary>
    public static IReadOnlyList<TargetDependent> TruncatedWith(IReadOnlyList<ForeignKeyReference> foreignKeys, IReadOnlyCollection<TableName> tables)
    {
        var emptied = tables.ToHashSet();
        var dependents = new List<TargetDependent>();
        for (var added = true; added;)
        {
            added = false;
            foreach (var key in foreignKeys.Where(k => emptied.Contains(k.Referenced) && !emptied.Contains(k.Table)).OrderBy(k => k.Table).ThenBy(k => k.Name, StringComparer.Ordinal))
            {
                if (emptied.Add(key.Table))
                {
                    dependents.Add(new TargetDependent(
                        $"table {PgWireSyntax.Quote(key.Table)} (its foreign key {PgWireSyntax.Quote(key.Name)} references {PgWireSyntax.Quote(key.Referenced)})"));
                    added = true;
                }
            }
        }

        return dependents;
    }

    /// <summary>Foreign keys of tables outside <paramref name="tables"/> that reference one of them: DROP TABLE ... CASCADE drops them.</summary>
    public static IReadOnlyList<TargetDependent> DroppedWith(IReadOnlyList<ForeignKeyReference> foreignKeys, IReadOnlyCollection<TableName> tables)
    {
        var dropped = tables.ToHashSet();
        return foreignKeys.Where(k => dropped.Contains(k.Referenced) && !dropped.Contains(k.Table))
            .Select(k => new TargetDependent($"foreign key {PgWireSyntax.Quote(k.Name)} of {PgWireSyntax.Quote(k.Table)}"))
            .Distinct().OrderBy(d => d.Description, StringComparer.Ordinal).ToList();
    }
}
