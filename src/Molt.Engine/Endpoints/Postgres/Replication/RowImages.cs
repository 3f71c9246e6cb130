using Molt.Engine.Replication;
using Npgsql.Replication.PgOutput;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// Copies pgoutput tuples out of Npgsql, which reuses its message objects and streams each value from the socket: a
/// value must be read, in order, before the next. Values stay in PostgreSQL's text output (the format pgoutput sends
/// without the binary option), exactly what <c>SELECT col::text</c> gives.
/// </summary>
internal static class RowImages
{
    public static async ValueTask<RowImage> ReadAsync(ReplicationTuple tuple, int columns, CancellationToken cancellationToken)
    {
        var values = new object?[columns];
        var states = new ColumnValueState[columns];
        var i = 0;
        await foreach (var value in tuple.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (i >= columns)
            {
                throw new InvalidOperationException($"A pgoutput tuple has more values than its Relation's {columns} columns.");
            }

            switch (value.Kind)
            {
                case TupleDataKind.Null:
                    break;
                case TupleDataKind.UnchangedToastedValue:
                    states[i] = ColumnValueState.Unchanged;
                    break;
                case TupleDataKind.TextValue:
                    values[i] = await value.Get<string>(cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new InvalidOperationException($"pgoutput sent a {value.Kind} value, which a text-format stream never carries.");
            }

            i++;
        }

        return new RowImage(values, states);
    }

    /// <summary>The key columns' values of an image.</summary>
    public static object?[] Key(RowImage image, int[] keyOrdinals)
    {
        var key = new object?[keyOrdinals.Length];
        for (var i = 0; i < keyOrdinals.Length; i++)
        {
            key[i] = image.Values[keyOrdinals[i]];
        }

        return key;
    }

    /// <summary>True when some key column of the image was not sent (an unchanged TOASTed key value).</summary>
    public static bool LacksKey(RowImage image, int[] keyOrdinals) => keyOrdinals.Any(k => !image.IsPresent(k));

    /// <summary>
    /// The new row with its unchanged TOASTed values filled from the old row, where the old row carries them (REPLICA
    /// IDENTITY FULL sends the whole old row, its out-of-line values included), so the target never has to keep them.
    /// </summary>
    public static RowImage FillUnchanged(RowImage newRow, RowImage oldRow)
    {
        if (newRow.States.All(s => s == ColumnValueState.Present))
        {
            return newRow;
        }

        var values = newRow.Values.ToArray();
        var states = newRow.States.ToArray();
        for (var i = 0; i < states.Length; i++)
        {
            if (states[i] == ColumnValueState.Unchanged && oldRow.IsPresent(i))
            {
                values[i] = oldRow.Values[i];
                states[i] = ColumnValueState.Present;
            }
        }

        return new RowImage(values, states);
    }

    /// <summary>Text forms compare exactly: a key changed when any of its values differs in its output text.</summary>
    public static bool SameKey(object?[] a, object?[] b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            if (!string.Equals((string?)a[i], (string?)b[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
