using System.Text.Json;
using Molt.Engine.Schema;

namespace Molt.Engine.State;

/// <summary>The options that say what a run loads, as flags: which of them an invocation set explicitly.</summary>
[Flags]
public enum SelectionParts
{
    None = 0,

    /// <summary>-Schema, -Table and -ExcludeTable.</summary>
    Tables = 1,
    TableHandling = 2,
    Where = 4,
    TypeMap = 8,
    TargetSchema = 16,
    IdentifierCase = 32,
    All = Tables | TableHandling | Where | TypeMap | TargetSchema | IdentifierCase,
}

/// <summary>
/// What a run loads: its planned source tables (and the filter that chose them), table handling, row filters, type map,
/// target schema and identifier case. Recorded in <c>_molt.fetch_runs</c> when the run starts, so that -Resume continues
/// that run rather than whatever the resuming invocation's defaults would select.
/// </summary>
public sealed record LoadSelection(IReadOnlyList<TableName> Tables, TableFilter Filter, TableHandling TableHandling,
    IReadOnlyDictionary<string, string> Where, TypeMapOverrides TypeMap, string TargetSchema, IdentifierCase IdentifierCase)
{
    public string ToJson() => JsonSerializer.Serialize(new Stored(
        Tables.Select(t => new[] { t.Schema, t.Name }).ToArray(), [.. Filter.SchemaPatterns], [.. Filter.TablePatterns], [.. Filter.ExcludedPatterns],
        TableHandling.ToString(), new Dictionary<string, string>(Where), TypeMap.ToJson(), TargetSchema, IdentifierCase.ToString()));

    public static LoadSelection FromJson(string fetchId, string json)
    {
        try
        {
            var stored = JsonSerializer.Deserialize<Stored>(json) ?? throw new JsonException("the recorded selection is empty");
            return new LoadSelection(stored.Tables.Select(t => new TableName(t[0], t[1])).ToList(),
                new TableFilter(stored.Schemas, stored.TablePatterns, stored.ExcludedPatterns), Enum.Parse<TableHandling>(stored.TableHandling),
                new Dictionary<string, string>(stored.Where, StringComparer.OrdinalIgnoreCase), TypeMapOverrides.Parse(stored.TypeMap),
                stored.TargetSchema, Enum.Parse<IdentifierCase>(stored.IdentifierCase));
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or IndexOutOfRangeException or MoltException)
        {
            throw new MoltException(MoltErrorKind.InvalidState, "FetchRunSelectionUnreadable",
                $"The tables and options recorded for load run '{fetchId}' in _molt.fetch_runs cannot be read: {ex.Message}",
                "Start a new run without -Resume.", ex) { Target = fetchId };
        }
    }

    private sealed record Stored(string[][] Tables, string[] Schemas, string[] TablePatterns, string[] ExcludedPatterns, string TableHandling,
        Dictionary<string, string> Where, string TypeMap, string TargetSchema, string IdentifierCase);
}
