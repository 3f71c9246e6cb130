using System.Text;
using System.Text.Json;
using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>One row of a sinkless changefeed, read as a typed message.</summary>
internal abstract record ChangefeedMessage;

/// <summary>Nothing with an <c>updated</c> at or below <see cref="Timestamp"/> that was not sent already will come.</summary>
internal sealed record ChangefeedResolved(CockroachHlc Timestamp) : ChangefeedMessage;

/// <summary>A row version: the change as the applier takes it, its table's key as CockroachDB wrote it, and its commit timestamp.</summary>
internal sealed record ChangefeedRow(RowChange Change, string KeyText, CockroachHlc Updated) : ChangefeedMessage;

/// <summary>
/// A watched table, from a failback plan (the one failback's loop hands its change source: its source is the table on
/// the CockroachDB target, its target the original's): the CockroachDB table and its columns, named as the changefeed
/// names them, with each column's value turned into text by its CockroachDB type. Changes are named as on CockroachDB,
/// as the PostgreSQL change source names a PostgreSQL target's, and the applier maps them onto the original.
/// </summary>
internal sealed class ChangefeedTable
{
    private readonly Dictionary<string, int> ordinals;
    private readonly HashSet<string> notCopied;
    private readonly ChangefeedColumnKind[] kinds;
    private readonly ChangefeedColumnKind[] keyKinds;

    public ChangefeedTable(string database, TablePlan plan)
    {
        Watched = plan.Source.Name;
        Topic = ChangefeedStatement.Topic(database, Watched);
        var columns = plan.Columns.Select(c => c.Source).ToList();
        ordinals = columns.Select((c, i) => (c.Name, i)).ToDictionary(c => c.Name, c => c.i, StringComparer.Ordinal);
        // Computed columns the changefeed sends (stored ones) but failback leaves to the original.
        notCopied = plan.Source.Columns.Select(c => c.Name).Where(n => !ordinals.ContainsKey(n)).ToHashSet(StringComparer.Ordinal);
        kinds = columns.Select(c => ChangefeedValues.KindOf(c.Type)).ToArray();
        // The changefeed's key is the CockroachDB table's primary key, in its order.
        var keyOrdinals = plan.Source.PrimaryKey.Select(k => ordinals.TryGetValue(k, out var i) ? i
            : throw new ArgumentException($"The key column '{k}' of {Watched} is not among the plan's columns.", nameof(plan))).ToList();
        keyKinds = keyOrdinals.Select(i => kinds[i]).ToArray();
        Table = new ChangeTable(Watched, columns.Select(c => c.Name).ToList(), keyOrdinals.Select(i => columns[i].Name).ToList());
    }

    /// <summary>The table column of the changefeed's rows for this table (database.schema.table under full_table_name).</summary>
    public string Topic { get; }

    /// <summary>The CockroachDB table the changefeed watches.</summary>
    public TableName Watched { get; }

    /// <summary>The table as changes name it: CockroachDB's table and columns, the plan's source.</summary>
    public ChangeTable Table { get; }

    internal IReadOnlyList<object?> Key(JsonElement key)
    {
        if (key.ValueKind != JsonValueKind.Array || key.GetArrayLength() != keyKinds.Length)
        {
            throw new FormatException($"The changefeed key {key.GetRawText()} of {Topic} is not an array of its {keyKinds.Length} key column(s).");
        }

        return key.EnumerateArray().Select((value, i) => (object?)ChangefeedValues.ToText(value, keyKinds[i])).ToList();
    }

    /// <summary>A row object's values in the plan's column order; a column the object lacks is left unchanged (a virtual column CockroachDB omits).</summary>
    internal RowImage Image(JsonElement row)
    {
        var values = new object?[kinds.Length];
        var states = Enumerable.Repeat(ColumnValueState.Unchanged, kinds.Length).ToArray();
        foreach (var property in row.EnumerateObject())
        {
            if (!ordinals.TryGetValue(property.Name, out var i))
            {
                if (notCopied.Contains(property.Name))
                {
                    continue;
                }

                throw ChangefeedErrors.UnknownColumn(Watched, property.Name);
            }

            values[i] = ChangefeedValues.ToText(property.Value, kinds[i]);
            states[i] = ColumnValueState.Present;
        }

        return new RowImage(values, states);
    }
}

/// <summary>
/// Reads the rows of a sinkless changefeed: columns <c>table</c>, <c>key</c>, <c>value</c>, the key and value JSON
/// (https://www.cockroachlabs.com/docs/stable/changefeed-for, the sinkless example <c>foo,[0],"{""after"": {""a"": 0}}"</c>).
/// </summary>
internal sealed class ChangefeedMessageParser
{
    private readonly Dictionary<string, ChangefeedTable> tables;

    public ChangefeedMessageParser(IEnumerable<ChangefeedTable> tables) =>
        this.tables = tables.ToDictionary(t => t.Topic, StringComparer.Ordinal);

    /// <summary>Parses one row; <paramref name="key"/> and <paramref name="value"/> are the columns' bytes (UTF-8 JSON).</summary>
    /// <exception cref="FormatException">The row is not a changefeed message of the wrapped JSON envelope with updated timestamps.</exception>
    /// <exception cref="MoltException">The row belongs to a table Molt does not watch, or names a column the plan lacks.</exception>
    public ChangefeedMessage Parse(string? table, byte[]? key, byte[]? value)
    {
        if (value is null)
        {
            throw new FormatException($"A changefeed row of {table ?? "no table"} has no value; the wrapped envelope always has one.");
        }

        using var document = JsonDocument.Parse(value);
        var root = document.RootElement;
        // The resolved message has "its own envelope containing a resolved key and a timestamp value as a string":
        // https://www.cockroachlabs.com/docs/stable/changefeed-message-envelopes (option resolved). It carries no key.
        if (root.TryGetProperty("resolved", out var resolved))
        {
            return new ChangefeedResolved(Timestamp(resolved, "resolved"));
        }

        if (table is null || !tables.TryGetValue(table, out var watched))
        {
            throw ChangefeedErrors.UnknownTable(table);
        }

        if (key is null)
        {
            throw new FormatException($"A changefeed row of {table} has no key.");
        }

        using var keyDocument = JsonDocument.Parse(key);
        var keyValues = watched.Key(keyDocument.RootElement);
        if (!root.TryGetProperty("updated", out var updated))
        {
            throw new FormatException($"A changefeed row of {table} has no 'updated' timestamp; the changefeed must be created WITH updated.");
        }

        var after = root.TryGetProperty("after", out var a) ? a : default;
        var hasBefore = root.TryGetProperty("before", out var before);
        var old = hasBefore && before.ValueKind == JsonValueKind.Object ? watched.Image(before) : null;
        RowChange change;
        if (after.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            // A delete: "the primary key of the deleted row and a null value":
            // https://www.cockroachlabs.com/docs/stable/changefeed-messages#delete-messages
            change = new RowChange(watched.Table, RowChangeKind.Delete) { Key = keyValues, Old = old };
        }
        else
        {
            // Under diff, "For an insert into the table, the before field contains null":
            // https://www.cockroachlabs.com/docs/stable/changefeed-message-envelopes#audit-changes-in-data. Without diff it cannot be told, so an update.
            var kind = hasBefore && before.ValueKind == JsonValueKind.Null ? RowChangeKind.Insert : RowChangeKind.Update;
            change = new RowChange(watched.Table, kind) { Key = keyValues, New = watched.Image(after), Old = old };
        }

        return new ChangefeedRow(change, Encoding.UTF8.GetString(key), Timestamp(updated, "updated"));
    }

    /// <summary>
    /// An HLC as a changefeed writes it, a string of wall nanoseconds, '.', and a 10-digit logical counter
    /// ("1701102296662969433.0000000000": https://www.cockroachlabs.com/docs/stable/changefeed-messages).
    /// </summary>
    private static CockroachHlc Timestamp(JsonElement value, string field) =>
        value.ValueKind == JsonValueKind.String ? CockroachHlc.Parse(value.GetString()!)
            : throw new FormatException($"The changefeed's '{field}' is {value.GetRawText()}, not a timestamp string.");
}
