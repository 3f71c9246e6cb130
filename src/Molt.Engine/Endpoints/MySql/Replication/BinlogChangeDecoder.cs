using System.Collections;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.MySqlBinlog;
using Molt.MySqlBinlog.Events;

namespace Molt.Engine.Endpoints.MySql.Replication;

/// <summary>
/// Turns binlog events into the change model, one event at a time (nothing of a transaction is held but its Begin, until
/// its first change of a planned table). Changes of tables outside the plan are dropped here; a transaction with nothing
/// planned in it yields nothing at all. DDL on a planned table, a table map that no longer matches the plan and row
/// changes logged as statements stop the stream before their transaction is delivered.
/// </summary>
internal sealed class BinlogChangeDecoder(IReadOnlyList<TablePlan> plans, ZeroDateHandling zeroDates, bool mariaDb,
    Func<TableName, CancellationToken, Task<TableModel?>> readCatalogTable)
{
    private readonly Dictionary<TableName, TablePlan> planned = plans.ToDictionary(p => p.Source.Name);
    private readonly Dictionary<ulong, (TableMapEvent Map, BinlogTable? Table)> tables = [];
    private BeginChange? pendingBegin;
    private bool begun;
    private bool explicitTransaction;

    /// <summary>True between transactions: the last event ended one (or nothing has begun yet).</summary>
    public bool BetweenTransactions { get; private set; } = true;

    /// <summary>The changes one event makes, in order: none for most events, a transaction's Begin before its first change.</summary>
    public async ValueTask<IReadOnlyList<Change>> DecodeAsync(BinlogEvent e, CancellationToken cancellationToken)
    {
        switch (e)
        {
            case MariaDbGtidEvent gtid:
                Open(gtid.Gtid.ToString());
                explicitTransaction = !gtid.IsStandalone;
                return [];
            case MySqlGtidEvent gtid:
                Open(gtid.IsAnonymous ? $"anonymous at {e.Position?.File}:{e.Header.LogPosition}" : gtid.Gtid);
                return [];
            case QueryEvent query when query.IsBegin:
                if (pendingBegin is null && !begun)
                {
                    Open($"{e.Position?.File}:{e.Header.LogPosition}");
                }

                explicitTransaction = true;
                return [];
            case QueryEvent query when query.IsCommit || query.IsRollback:
                return Commit(e);
            case QueryEvent query:
                return await StatementAsync(query, cancellationToken).ConfigureAwait(false);
            case XidEvent:
                return Commit(e);
            case TableMapEvent map:
                Remember(map);
                return [];
            case RowsEvent rows when Target(rows) is { } table:
                return Deliver(rows.Rows.Select(row => Change(table, rows.Kind, row)));
            default:
                // Rows of unplanned tables, rotations, format descriptions, GTID lists, annotations and heartbeats change nothing.
                return [];
        }
    }

    private void Open(string transactionId)
    {
        BetweenTransactions = false;
        pendingBegin = new BeginChange(transactionId);
        begun = false;
        explicitTransaction = false;
    }

    private IReadOnlyList<Change> Commit(BinlogEvent e)
    {
        var delivered = begun;
        pendingBegin = null;
        begun = false;
        explicitTransaction = false;
        BetweenTransactions = true;
        if (!delivered)
        {
            return [];
        }

        return [new CommitChange(MySqlPositions.Of(e.Position!, mariaDb), DateTimeOffset.FromUnixTimeSeconds(e.Header.Timestamp))];
    }

    /// <summary>
    /// A statement other than BEGIN/COMMIT: TRUNCATE of planned tables is a change; DDL on a planned table stops the stream
    /// unless the catalog now reads the table as the plan has it (a resume planned after the change); outside BEGIN ...
    /// COMMIT the statement is its own transaction, which ends with it.
    /// </summary>
    private async ValueTask<IReadOnlyList<Change>> StatementAsync(QueryEvent query, CancellationToken cancellationToken)
    {
        if (BetweenTransactions)
        {
            // A statement without a GTID (GTIDs off): its own transaction.
            Open($"{query.Position?.File}:{query.Header.LogPosition}");
        }

        var statement = BinlogStatement.Parse(query.Query, query.Schema);
        var touched = statement.Tables.Where(planned.ContainsKey).Distinct().ToList();
        var changes = new List<Change>();
        if (touched.Count > 0)
        {
            switch (statement.Kind)
            {
                case StatementKind.Truncate:
                    changes.AddRange(Deliver([new TruncateChange(touched, Cascade: false)]));
                    break;
                case StatementKind.TableDdl:
                    foreach (var name in touched)
                    {
                        var current = await readCatalogTable(name, cancellationToken).ConfigureAwait(false);
                        if (BinlogSchemaChanges.Compare(planned[name].Source, current) is { } difference)
                        {
                            throw BinlogSchemaChanges.Changed(name, $"{difference} ({Shorten(query.Query)})");
                        }
                    }

                    break;
                case StatementKind.StatementDml:
                    throw new MoltException(MoltErrorKind.InvalidState, "StatementBasedChange",
                        $"The binlog holds a change of {touched[0]} as a statement ({Shorten(query.Query)}), not as rows, so its rows cannot be replicated. " +
                        "The stream stopped before that transaction; the checkpoint stands.",
                        "Set binlog_format=ROW on the source (globally, and for every session that writes), load the table again, then resume.")
                    { Target = touched[0].ToString() };
            }
        }

        if (!explicitTransaction)
        {
            changes.AddRange(Commit(query));
        }

        return changes;
    }

    /// <summary>
    /// The source logs a table's map before each transaction's rows: while its layout stays the same the table keeps its
    /// description, which saves describing it again and lets the applier gather its changes across transactions.
    /// </summary>
    private void Remember(TableMapEvent map)
    {
        var table = tables.TryGetValue(map.TableId, out var known) && known.Map.HasSameLayout(map)
            ? known.Table
            : planned.TryGetValue(new TableName(map.Schema, map.Table), out var plan) ? BinlogTable.Describe(map, plan, zeroDates) : null;
        tables[map.TableId] = (map, table);
    }

    private BinlogTable? Target(RowsEvent rows)
    {
        var table = tables.TryGetValue(rows.Table.TableId, out var known) && ReferenceEquals(known.Map, rows.Table)
            ? known.Table
            : planned.TryGetValue(new TableName(rows.Table.Schema, rows.Table.Table), out var plan) ? BinlogTable.Describe(rows.Table, plan, zeroDates) : null;
        table?.RequireUnchanged();
        return table;
    }

    private static RowChange Change(BinlogTable table, RowsEventKind kind, BinlogRow row)
    {
        switch (kind)
        {
            case RowsEventKind.Write:
            {
                var image = table.Convert(row.After!);
                return new RowChange(table.Table, RowChangeKind.Insert) { New = image, Key = RequireKey(table, image) };
            }

            case RowsEventKind.Delete:
            {
                var old = table.Convert(row.Before!);
                return new RowChange(table.Table, RowChangeKind.Delete) { Old = Whole(old), Key = RequireKey(table, old) };
            }

            default:
            {
                var old = table.Convert(row.Before!);
                var image = table.Convert(row.After!);
                var oldKey = RequireKey(table, old);
                // A minimal after image leaves an unchanged key out: the row keeps the old one.
                var newKey = new object?[oldKey.Length];
                for (var i = 0; i < newKey.Length; i++)
                {
                    var at = table.KeyOrdinals[i];
                    newKey[i] = image.IsPresent(at) ? image.Values[at] : oldKey[i];
                }

                return new RowChange(table.Table, RowChangeKind.Update)
                {
                    New = image, Old = Whole(old), Key = oldKey, OldKey = SameValues(oldKey, newKey) ? null : oldKey,
                };
            }
        }
    }

    /// <summary>The old row counts as the whole old row only when the image has every column (binlog_row_image=FULL).</summary>
    private static RowImage? Whole(RowImage image)
    {
        for (var i = 0; i < image.States.Count; i++)
        {
            if (image.States[i] != ColumnValueState.Present)
            {
                return null;
            }
        }

        return image;
    }

    /// <summary>A change whose key was not logged cannot be matched on the target: applying it anyway would corrupt the copy.</summary>
    private static object?[] RequireKey(BinlogTable table, RowImage image) =>
        table.Key(image) ?? throw new MoltException(MoltErrorKind.InvalidState, "UnidentifiableChange",
            $"The binlog holds a change of {table.Table.Name} without its key values ({string.Join(", ", table.Table.KeyColumns)}), so the row cannot be found on the target.",
            "Give the table a primary key, or set binlog_row_image=FULL on the source, then load the table again.")
        { Target = table.Table.Name.ToString() };

    private static bool SameValues(object?[] a, object?[] b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            var same = (a[i], b[i]) switch
            {
                (byte[] x, byte[] y) => x.AsSpan().SequenceEqual(y),
                (BitArray x, BitArray y) => x.Length == y.Length && new BitArray(x).Xor(y).Cast<bool>().All(bit => !bit),
                var (x, y) => Equals(x, y),
            };
            if (!same)
            {
                return false;
            }
        }

        return true;
    }

    private List<Change> Deliver(IEnumerable<Change> delivered)
    {
        var changes = new List<Change>();
        if (!begun)
        {
            begun = true;
            changes.Add(pendingBegin ?? new BeginChange("unknown"));
            pendingBegin = null;
        }

        changes.AddRange(delivered);
        return changes;
    }

    private static string Shorten(string sql) => sql.Length <= 200 ? sql : sql[..200] + "...";
}
