using System.Globalization;
using System.Text;
using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// The net effect on one set-safe table (<see cref="SetSafeTables"/>) of the changes gathered so far, per key in commit
/// order: a key ends either as a whole row (inserted or updated last) or deleted. An update that changed the key deletes
/// the old key and writes the new one. Written as one batched DELETE and one multi-row upsert (in chunks), which is
/// exact because nothing but the key can make two of the table's rows, or the order of its statements, matter.
/// </summary>
internal sealed class TableNetChanges(TableApply table)
{
    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);

    public TableApply Table => table;

    /// <summary>Values held (key values of deletes, whole rows of upserts), overwritten ones included: an upper bound.</summary>
    public long Values { get; private set; }

    public long Bytes { get; private set; }

    public bool IsEmpty => entries.Count == 0;

    /// <summary>
    /// Adds <paramref name="change"/> to the net effect; false when it cannot be, and nothing was added: an update with
    /// unchanged columns of a row this net effect does not hold, so only the target knows their values. The caller then
    /// writes what is held first and the change on its own.
    /// </summary>
    public bool TryAdd(RowChange change)
    {
        switch (change.Kind)
        {
            case RowChangeKind.Insert:
                Upsert(table.Row(change.New!, null).Values);
                return true;
            case RowChangeKind.Delete:
                Delete(change.Key);
                return true;
            default:
                var (row, present) = table.Row(change.New!, change.Old);
                if (!Array.TrueForAll(present, p => p))
                {
                    if (!entries.TryGetValue(RowKeys.Text(change.Key), out var known))
                    {
                        return false;
                    }

                    if (known.Row is null)
                    {
                        // The row was deleted (or moved to another key) before: the update finds no row, on the target too.
                        return true;
                    }

                    // The held row is what the target will have when the update would run: its values stand for the unchanged ones.
                    for (var i = 0; i < row.Length; i++)
                    {
                        row[i] = present[i] ? row[i] : known.Row[i];
                    }
                }

                if (change.KeyChanged)
                {
                    Delete(change.Key);
                }

                Upsert(row);
                return true;
        }
    }

    /// <summary>
    /// The statements that write the net effect: deletes first, then upserts, each of at most
    /// <paramref name="maxParameters"/> parameters and about <paramref name="maxBytes"/> of values. Empties the net effect.
    /// </summary>
    public IReadOnlyList<NetStatement> Drain(PgWireApplySql sql, int maxParameters, long maxBytes)
    {
        var statements = new List<NetStatement>();
        var deletes = entries.Values.Where(e => e.Row is null).Select(e => e.Key).ToList();
        var upserts = entries.Values.Where(e => e.Row is not null).Select(e => e.Row!).ToList();
        foreach (var chunk in Chunks(deletes, table.KeyColumns.Count, maxParameters, maxBytes))
        {
            statements.Add(new NetStatement(sql.Dialect.DeleteByKeys(table.Target, table.KeyColumns, chunk.Count), chunk, table.Keys,
                $"deleting {chunk.Count} row(s) from {table.Target}"));
        }

        foreach (var chunk in Chunks(upserts, table.Columns.Count, maxParameters, maxBytes))
        {
            statements.Add(new NetStatement(sql.Dialect.Upsert(table.Target, table.Columns, table.ConflictColumns, chunk.Count), chunk, table.Plan.Columns,
                $"upserting {chunk.Count} row(s) into {table.Target}"));
        }

        entries.Clear();
        (Values, Bytes) = (0, 0);
        return statements;
    }

    private void Upsert(object?[] row)
    {
        var ordinals = table.KeyOrdinals;
        var key = new object?[ordinals.Count];
        for (var i = 0; i < key.Length; i++)
        {
            key[i] = row[ordinals[i]];
        }

        entries[RowKeys.Text(key)] = new Entry(key, row);
        Values += row.Length;
        Bytes += PgWireApplyTransaction.Size(row);
    }

    private void Delete(IReadOnlyList<object?> key)
    {
        entries[RowKeys.Text(key)] = new Entry([.. key], null);
        Values += key.Count;
        Bytes += PgWireApplyTransaction.Size(key);
    }

    private static IEnumerable<List<object?[]>> Chunks(List<object?[]> rows, int width, int maxParameters, long maxBytes)
    {
        var perStatement = Math.Max(1, maxParameters / Math.Max(1, width));
        var chunk = new List<object?[]>();
        long bytes = 0;
        foreach (var row in rows)
        {
            var size = PgWireApplyTransaction.Size(row);
            if (chunk.Count > 0 && (chunk.Count >= perStatement || bytes + size > maxBytes))
            {
                yield return chunk;
                (chunk, bytes) = ([], 0);
            }

            chunk.Add(row);
            bytes += size;
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    /// <summary>A key's values, and the row it ends as (null: deleted).</summary>
    private readonly record struct Entry(object?[] Key, object?[]? Row);
}

/// <summary>One statement of a net effect: its rows' values, each row's parameters typed by <see cref="Columns"/>.</summary>
internal sealed record NetStatement(string Sql, IReadOnlyList<object?[]> Rows, IReadOnlyList<TargetColumn> Columns, string Doing);

/// <summary>A row key as one string, for finding a key again among gathered rows.</summary>
internal static class RowKeys
{
    /// <summary>
    /// Each value length-prefixed so no two keys spell alike; bytes as hex and other values in their round-trip invariant
    /// form (a default ToString would spell every byte array alike, and two timestamps a fraction of a second apart too).
    /// </summary>
    public static string Text(IReadOnlyList<object?> values)
    {
        var text = new StringBuilder();
        for (var i = 0; i < values.Count; i++)
        {
            Append(text, values[i]);
        }

        return text.ToString();
    }

    /// <summary>The key of the values at <paramref name="ordinals"/> of a row, spelled as <see cref="Text(IReadOnlyList{object?})"/> spells them.</summary>
    public static string Text(object?[] row, IReadOnlyList<int> ordinals)
    {
        var text = new StringBuilder();
        for (var i = 0; i < ordinals.Count; i++)
        {
            Append(text, row[ordinals[i]]);
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, object? value)
    {
        var spelled = value switch
        {
            null => null,
            string s => s,
            byte[] b => "x" + Convert.ToHexString(b),
            DateTime d => d.ToString("O", CultureInfo.InvariantCulture),
            DateTimeOffset d => d.ToString("O", CultureInfo.InvariantCulture),
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            float f => f.ToString("R", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        if (spelled is null)
        {
            text.Append('~');
        }
        else
        {
            text.Append(spelled.Length).Append(':').Append(spelled);
        }
    }
}
