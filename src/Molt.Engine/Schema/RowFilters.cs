namespace Molt.Engine.Schema;

/// <summary>
/// Row filters (-Where): a table, named "schema.table" or "table" without regard to case, to a predicate in the
/// source's SQL. A qualified key wins over a bare one; a key that names none of the selected tables is refused, since
/// a mistyped name would otherwise load or compare the whole table.
/// </summary>
public sealed class RowFilters(IReadOnlyDictionary<string, string> predicates)
{
    public string? For(TableName table) => Find(table.ToString()) ?? Find(table.Name);

    public void EnsureEachNamesOneOf(IReadOnlyCollection<TableName> tables)
    {
        var unmatched = predicates.Keys.Where(key => !tables.Any(t => Names(key, t))).ToList();
        if (unmatched.Count > 0)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "RowFilterMatchesNoTable",
                $"-Where names {string.Join(", ", unmatched.Select(k => $"'{k}'"))}, which is none of the selected tables.",
                "Key each -Where entry by a selected table, as 'schema.table' or 'table' (check -Schema, -Table and -ExcludeTable), or leave it out.")
            {
                Target = unmatched[0],
            };
        }
    }

    private string? Find(string key) => predicates.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    private static bool Names(string key, TableName table) =>
        string.Equals(key, table.ToString(), StringComparison.OrdinalIgnoreCase) || string.Equals(key, table.Name, StringComparison.OrdinalIgnoreCase);
}
