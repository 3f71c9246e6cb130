using System.Management.Automation;
using Molt.Engine;

namespace Molt.PowerShell.Cmdlets;

/// <summary>
/// What Compare-MoltData collects from its input before comparing, once: per source and target pair (in the order
/// first seen), the tables named, or every table its filter selects, and the -Where each piped load result carried.
/// </summary>
internal sealed class ComparisonRequests
{
    private readonly List<EndpointPair> pairs = [];

    public IReadOnlyList<EndpointPair> Pairs => pairs;

    public void AddEveryTable(string source, string target) => Pair(source, target).EveryTable = true;

    public void AddTables(string source, string target, IEnumerable<string> patterns) => Pair(source, target).TablePatterns.UnionWith(patterns);

    /// <summary>One table a load wrote, named exactly (a name is not a pattern), with the predicate it was loaded under.</summary>
    public void AddLoadedTable(string source, string target, string table, string? where)
    {
        var pair = Pair(source, target);
        if (where is not null)
        {
            if (pair.LoadedRowFilters.TryGetValue(table, out var earlier) && earlier != where)
            {
                throw new MoltException(MoltErrorKind.InvalidArgument, "ConflictingRowFilters",
                    $"Table '{table}' is piped twice with different -Where predicates ('{earlier}' and '{where}').",
                    "Pipe the results of one load per table, or name the predicate with -Where.") { Target = table };
            }

            pair.LoadedRowFilters[table] = where;
        }

        pair.TablePatterns.Add(WildcardPattern.Escape(table));
    }

    private EndpointPair Pair(string source, string target)
    {
        var pair = pairs.Find(p => p.Source == source && p.Target == target);
        if (pair is null)
        {
            pair = new EndpointPair(source, target);
            pairs.Add(pair);
        }

        return pair;
    }
}

/// <summary>The comparison one source and target pair gets.</summary>
internal sealed class EndpointPair(string source, string target)
{
    public string Source { get; } = source;

    public string Target { get; } = target;

    /// <summary>Every table the -Schema, -Table and -ExcludeTable filter selects, whatever else was piped for the pair.</summary>
    public bool EveryTable { get; set; }

    public HashSet<string> TablePatterns { get; } = new(StringComparer.Ordinal);

    /// <summary>Each loaded table's predicate, keyed by its schema-qualified name.</summary>
    public Dictionary<string, string> LoadedRowFilters { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The loads' predicates, where -Where given to Compare-MoltData names the table it wins.</summary>
    public Dictionary<string, string> RowFilters(IReadOnlyDictionary<string, string> given)
    {
        var filters = new Dictionary<string, string>(given, StringComparer.OrdinalIgnoreCase);
        foreach (var (table, predicate) in LoadedRowFilters)
        {
            if (!given.Keys.Any(key => string.Equals(key, table, StringComparison.OrdinalIgnoreCase)
                || table.EndsWith("." + key, StringComparison.OrdinalIgnoreCase)))
            {
                filters[table] = predicate;
            }
        }

        return filters;
    }
}
