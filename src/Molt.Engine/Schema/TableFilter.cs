using System.Text.RegularExpressions;

namespace Molt.Engine.Schema;

/// <summary>
/// Which tables an operation selects: schema and table patterns with PowerShell-style wildcards (* ? [a-z]),
/// matched case-insensitively. A table pattern may be qualified ("public.film*") or bare ("film*").
/// </summary>
public sealed class TableFilter
{
    private readonly Regex[] schemas;
    private readonly Regex[] tables;
    private readonly Regex[] excluded;

    public TableFilter(IEnumerable<string>? schemas = null, IEnumerable<string>? tables = null, IEnumerable<string>? excludedTables = null)
    {
        SchemaPatterns = (schemas ?? []).ToArray();
        TablePatterns = (tables ?? []).ToArray();
        ExcludedPatterns = (excludedTables ?? []).ToArray();
        this.schemas = SchemaPatterns.Select(ToRegex).ToArray();
        this.tables = TablePatterns.Select(ToRegex).ToArray();
        excluded = ExcludedPatterns.Select(ToRegex).ToArray();
    }

    /// <summary>Selects every table of every user schema.</summary>
    public static TableFilter All { get; } = new();

    /// <summary>
    /// Selects exactly these tables by their qualified names (wildcard characters taken literally). Matching ignores case,
    /// as every filter's does: a caller that needs the exact names checks the tables it gets.
    /// </summary>
    public static TableFilter Of(IEnumerable<TableName> tables) =>
        new(tables: tables.Select(t => Literal($"{t.Schema}.{t.Name}")));

    public IReadOnlyList<string> SchemaPatterns { get; }

    public IReadOnlyList<string> TablePatterns { get; }

    public IReadOnlyList<string> ExcludedPatterns { get; }

    public bool Matches(TableName table)
    {
        if (schemas.Length > 0 && !schemas.Any(s => s.IsMatch(table.Schema)))
        {
            return false;
        }

        if (tables.Length > 0 && !tables.Any(t => MatchesTable(t, table)))
        {
            return false;
        }

        return !excluded.Any(e => MatchesTable(e, table));
    }

    /// <summary>Describes the filter for an error that says nothing matched.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (SchemaPatterns.Count > 0)
        {
            parts.Add($"-Schema {string.Join(", ", SchemaPatterns)}");
        }

        if (TablePatterns.Count > 0)
        {
            parts.Add($"-Table {string.Join(", ", TablePatterns)}");
        }

        if (ExcludedPatterns.Count > 0)
        {
            parts.Add($"-ExcludeTable {string.Join(", ", ExcludedPatterns)}");
        }

        return parts.Count == 0 ? "(all tables)" : string.Join(" ", parts);
    }

    private static bool MatchesTable(Regex pattern, TableName table) =>
        pattern.IsMatch(table.Name) || pattern.IsMatch($"{table.Schema}.{table.Name}");

    private static string Literal(string text) =>
        string.Concat(text.Select(c => c is '*' or '?' or '[' or ']' or '`' ? $"`{c}" : c.ToString()));

    private static Regex ToRegex(string wildcard)
    {
        var pattern = new System.Text.StringBuilder("^");
        for (var i = 0; i < wildcard.Length; i++)
        {
            var c = wildcard[i];
            switch (c)
            {
                case '*':
                    pattern.Append(".*");
                    break;
                case '?':
                    pattern.Append('.');
                    break;
                case '[':
                    var close = wildcard.IndexOf(']', i + 1);
                    if (close > i)
                    {
                        pattern.Append('[').Append(wildcard[(i + 1)..close].Replace("\\", "\\\\")).Append(']');
                        i = close;
                    }
                    else
                    {
                        pattern.Append("\\[");
                    }

                    break;
                case '`' when i + 1 < wildcard.Length:
                    pattern.Append(Regex.Escape(wildcard[++i].ToString()));
                    break;
                default:
                    pattern.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return new Regex(pattern.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }
}
