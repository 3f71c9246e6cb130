using System.Text.Json;
using System.Text.Json.Serialization;

namespace Molt.Engine.Schema;

/// <summary>
/// Column type overrides from a type-map file, in MOLT Fetch's format:
/// <c>[{"table": "public.film", "column_type_map": [{"column": "rating", "source_type": "mpaa_rating", "target_type": "text"}]}]</c>.
/// "column": "*" applies to every column of the table whose source type matches; "table": "*" to every table.
/// </summary>
public sealed class TypeMapOverrides
{
    private static readonly JsonSerializerOptions CaseInsensitiveJson = new() { PropertyNameCaseInsensitive = true };

    private readonly IReadOnlyList<TableEntry> entries;

    private TypeMapOverrides(IReadOnlyList<TableEntry> entries) => this.entries = entries;

    public static TypeMapOverrides None { get; } = new([]);

    public static TypeMapOverrides Parse(string json)
    {
        try
        {
            var parsed = JsonSerializer.Deserialize<List<TableEntry>>(json, CaseInsensitiveJson)
                ?? [];
            foreach (var entry in parsed)
            {
                if (string.IsNullOrWhiteSpace(entry.Table) || entry.ColumnTypeMap.Any(c => string.IsNullOrWhiteSpace(c.TargetType)))
                {
                    throw new JsonException("every entry needs \"table\" and every column_type_map item a \"target_type\"");
                }
            }

            return new TypeMapOverrides(parsed);
        }
        catch (JsonException ex)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "InvalidTypeMapFile", $"The type-map file is not valid: {ex.Message}",
                """Write a JSON list such as [{"table": "public.film", "column_type_map": [{"column": "rating", "source_type": "mpaa_rating", "target_type": "text"}]}].""");
        }
    }

    public static TypeMapOverrides Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new MoltException(MoltErrorKind.NotFound, "TypeMapFileNotFound", $"The type-map file '{path}' does not exist.") { Target = path };
        }

        return Parse(File.ReadAllText(path));
    }

    /// <summary>The overrides in the type-map file's format, as a run records them.</summary>
    public string ToJson() => JsonSerializer.Serialize(entries);

    /// <summary>The target type the file names for this column, or null.</summary>
    public string? Find(TableName table, ColumnModel column)
    {
        foreach (var entry in entries.Where(e => TableMatches(e.Table, table)))
        {
            foreach (var map in entry.ColumnTypeMap)
            {
                var columnMatches = map.Column is null or "*" || map.Column == column.Name;
                var typeMatches = string.IsNullOrEmpty(map.SourceType)
                    || map.SourceType.Equals(column.Type.Name, StringComparison.OrdinalIgnoreCase)
                    || map.SourceType.Equals(column.Type.Declared, StringComparison.OrdinalIgnoreCase);
                if (columnMatches && typeMatches)
                {
                    return map.TargetType;
                }
            }
        }

        return null;
    }

    /// <summary>The file entry that would map this column to <paramref name="targetType"/>, for error messages.</summary>
    public static string SuggestedEntry(TableName table, ColumnModel column, string targetType) =>
        JsonSerializer.Serialize(new[]
        {
            new TableEntry { Table = table.ToString(), ColumnTypeMap = [new ColumnEntry { Column = column.Name, SourceType = column.Type.Name, TargetType = targetType }] },
        });

    /// <summary>The error for a column a target cannot hold, with the type-map entry that would fix it.</summary>
    public static MoltException Unsupported(TableModel table, ColumnModel column, string what, string targetName, string suggested) =>
        new(MoltErrorKind.UnsupportedType, "UnsupportedColumnType",
            $"Column {table.Name}.{column.Name} has type {column.Type.Declared}, {what}, which {targetName} cannot hold as it is.",
            $"Map it with a -TypeMapFile entry such as {SuggestedEntry(table.Name, column, suggested)} (the value is cast on the source), or leave the table out with -ExcludeTable.")
        {
            Target = $"{table.Name}.{column.Name}",
        };

    private static bool TableMatches(string pattern, TableName table) =>
        pattern == "*" || pattern == table.ToString() || pattern == table.Name;

    private sealed class TableEntry
    {
        [JsonPropertyName("table")]
        public string Table { get; set; } = string.Empty;

        [JsonPropertyName("column_type_map")]
        public List<ColumnEntry> ColumnTypeMap { get; set; } = [];
    }

    private sealed class ColumnEntry
    {
        [JsonPropertyName("column")]
        public string? Column { get; set; }

        [JsonPropertyName("source_type")]
        public string? SourceType { get; set; }

        [JsonPropertyName("target_type")]
        public string TargetType { get; set; } = string.Empty;
    }
}
