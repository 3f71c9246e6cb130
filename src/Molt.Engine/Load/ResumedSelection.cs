using Molt.Engine.Schema;
using Molt.Engine.State;

namespace Molt.Engine.Load;

/// <summary>
/// How a -Resume invocation meets the run it continues: what the invocation leaves out comes from the run's recorded
/// selection; what it sets must select the same, or the resume is refused before anything is written.
/// </summary>
internal static class ResumedSelection
{
    /// <summary>The options (all but the tables) the invocation set to something other than the run's, described.</summary>
    public static List<string> OptionDifferences(LoadSelection recorded, BulkLoadOptions given)
    {
        var differences = new List<string>();
        void Compare(SelectionParts part, string option, string recordedValue, string givenValue, bool same)
        {
            if (given.GivenSelection.HasFlag(part) && !same)
            {
                differences.Add($"{option}: the run's is {recordedValue}, this one's {givenValue}");
            }
        }

        Compare(SelectionParts.TableHandling, "-TableHandling", recorded.TableHandling.ToString(), given.TableHandling.ToString(),
            recorded.TableHandling == given.TableHandling);
        Compare(SelectionParts.Where, "-Where", Describe(recorded.Where), Describe(given.Where), SameRowFilters(recorded.Where, given.Where));
        Compare(SelectionParts.TypeMap, "-TypeMapFile", Describe(recorded.TypeMap), Describe(given.TypeMap), recorded.TypeMap.ToJson() == given.TypeMap.ToJson());
        Compare(SelectionParts.TargetSchema, "-TargetSchema", $"'{recorded.TargetSchema}'", $"'{given.TargetSchema}'",
            string.Equals(recorded.TargetSchema, given.TargetSchema, StringComparison.Ordinal));
        Compare(SelectionParts.IdentifierCase, "-IdentifierCase", recorded.IdentifierCase.ToString(), given.IdentifierCase.ToString(),
            recorded.IdentifierCase == given.IdentifierCase);
        return differences;
    }

    /// <summary>How the tables an invocation's -Schema/-Table/-ExcludeTable select differ from the run's, or null when they are the same.</summary>
    public static string? TableDifference(LoadSelection recorded, IEnumerable<TableName> selected, TableFilter filter)
    {
        var tables = selected.ToHashSet();
        return tables.SetEquals(recorded.Tables)
            ? null
            : $"the tables: the run's are {Describe(recorded.Tables)} ({recorded.Filter}), this one's {Describe(tables)} ({filter})";
    }

    public static MoltException Differs(string fetchId, IEnumerable<string> differences) => new(MoltErrorKind.InvalidArgument, "ResumeSelectionDiffers",
        $"-Resume continues load run '{fetchId}' with the tables and options it started with, and this invocation sets others:" + Environment.NewLine +
        string.Join(Environment.NewLine, differences.Select(d => "  " + d)),
        "Leave those parameters out with -Resume (the run's recorded ones are used), or start a new run without -Resume to load a different selection.")
    {
        Target = fetchId,
    };

    /// <summary>The run's tables, as the source has them now; a table the source no longer has is refused.</summary>
    public static IReadOnlyList<TableModel> RecordedTables(string fetchId, LoadSelection recorded, IReadOnlyList<TableModel> read)
    {
        var wanted = recorded.Tables.ToHashSet();
        var found = read.Where(t => wanted.Contains(t.Name)).ToList();
        var missing = recorded.Tables.Except(found.Select(t => t.Name)).ToList();
        if (missing.Count > 0)
        {
            throw new MoltException(MoltErrorKind.NotFound, "ResumeTablesMissing",
                $"The source no longer has table(s) {Describe(missing)} of load run '{fetchId}'.",
                "Restore them in the source (or check that -Source names the same database), or start a new run without -Resume.") { Target = fetchId };
        }

        return found;
    }

    private static bool SameRowFilters(IReadOnlyDictionary<string, string> recorded, IReadOnlyDictionary<string, string> given) =>
        recorded.Count == given.Count
        && recorded.All(r => given.Any(g => string.Equals(g.Key, r.Key, StringComparison.OrdinalIgnoreCase) && string.Equals(g.Value, r.Value, StringComparison.Ordinal)));

    private static string Describe(IEnumerable<TableName> tables) => string.Join(", ", tables.Order());

    private static string Describe(IReadOnlyDictionary<string, string> where) => where.Count == 0
        ? "(none)"
        : "@{ " + string.Join("; ", where.OrderBy(w => w.Key, StringComparer.OrdinalIgnoreCase).Select(w => $"{Literal(w.Key)} = {Literal(w.Value)}")) + " }";

    private static string Describe(TypeMapOverrides typeMap) => typeMap.ToJson() is "[]" ? "(none)" : typeMap.ToJson();

    private static string Literal(string text) => "'" + text.Replace("'", "''") + "'";
}
