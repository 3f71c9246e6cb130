using System.Text;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Npgsql;
using NpgsqlTypes;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// One target transaction of a pgwire applier. The changes of a set-safe table (<see cref="SetSafeTables"/>: nothing on
/// the target links its rows to another table's or to each other but the key) are gathered across the whole batch as
/// their net effect per key (<see cref="TableNetChanges"/>), written as a few multi-row statements at the commit, at a
/// truncate or when the values held reach a bound: a batch of many small source transactions (pgbench's) becomes a
/// handful of statements. Such a table's statements may run before or after other tables' changes, which nothing on the
/// target can tell apart. Every other table keeps the source's order exactly: consecutive row changes of one table and
/// one kind are gathered into one multi-row statement (an upsert, a batched delete, a plain insert for a keyless table);
/// anything else (another such table, another kind, a truncate, the commit) writes the gathered statement first.
/// Changes that name one row by value or write only some columns are sent as single-row statements.
/// Statements are pipelined, many in one round trip (an NpgsqlBatch runs them in order and stops at the first error): a
/// workload that switches table at every change (pgbench's transactions touch four tables) would otherwise wait for one
/// round trip per change, which on a busy machine costs far more than the statements themselves.
/// </summary>
internal sealed class PgWireApplyTransaction : IApplyTransaction
{
    /// <summary>A statement's values stay well under the protocol's 1 GiB message and CockroachDB's 64 MiB command limits.</summary>
    private const long BytesPerStatement = 4L * 1024 * 1024;

    private const int StatementsPerRoundTrip = 500;

    /// <summary>Values waiting in one round trip: a few full statements, so the memory they hold stays bounded.</summary>
    private const long BytesPerRoundTrip = 16L * 1024 * 1024;

    /// <summary>
    /// Parameters waiting in one round trip: each costs far more memory than its value's text (a 5M-row update of a narrow
    /// table, bounded by bytes alone, held about a million rows of parameters), so their number is bounded too. Small
    /// statements, which gain from sharing a round trip, fill it long before; a large multi-row statement goes alone.
    /// </summary>
    private const int ParametersPerRoundTrip = 16_384;

    /// <summary>
    /// Values the net effects may hold before they are written: enough for a 10,000-change batch of narrow rows to go in
    /// one go, few enough that memory stays bounded in a source transaction of millions of changes.
    /// </summary>
    private const long NetValuesHeld = 4L * ParametersPerRoundTrip;

    private const long NetBytesHeld = BytesPerRoundTrip;

    private readonly NpgsqlConnection connection;
    private readonly NpgsqlTransaction transaction;
    private readonly PgWireApplySql sql;
    private readonly ApplyBatchLimits limits;
    private readonly Dictionary<TableName, TablePlan> plans;
    private readonly Dictionary<ChangeTable, TableApply> tables = new(ReferenceEqualityComparer.Instance);
    private readonly IReadOnlyDictionary<TableName, string> offSetPath;

    // Keyed by target table: a table the source describes anew (a new TableApply) writes what the old one held first.
    private readonly Dictionary<TableName, TableNetChanges> nets = [];
    private long netValues;
    private long netBytes;
    private readonly List<NpgsqlBatchCommand> pending = [];
    private readonly List<(string Doing, string? Table)> pendingWhat = [];
    private long pendingBytes;
    private int pendingParameters;
    private RowRun? run;

    public PgWireApplyTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, PgWireApplySql sql, ApplyBatchLimits limits,
        IReadOnlyList<TablePlan> plans, IReadOnlyDictionary<TableName, string> offSetPath)
    {
        this.offSetPath = offSetPath;
        this.connection = connection;
        this.transaction = transaction;
        this.sql = sql;
        this.limits = limits;
        this.plans = plans.ToDictionary(p => p.Source.Name);
    }

    public async ValueTask WriteAsync(RowChange change, CancellationToken cancellationToken)
    {
        var table = Table(change.Table);
        if (table.KeyIsConflictKey && !offSetPath.ContainsKey(table.Table.Name))
        {
            await WriteNetAsync(table, change, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await WriteInOrderAsync(table, change, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask WriteInOrderAsync(TableApply table, RowChange change, CancellationToken cancellationToken)
    {
        switch (change.Kind)
        {
            case RowChangeKind.Insert:
                var (row, _) = table.Row(change.New!, null);
                await AddRowAsync(table, table.MatchesByAllColumns ? RunKind.Insert : RunKind.Upsert, row, cancellationToken).ConfigureAwait(false);
                break;
            case RowChangeKind.Delete when table.MatchesByAllColumns:
                await AddSingleAsync(table, sql.DeleteOneMatching(table.Target, table.Match), [], [], change.Key, cancellationToken).ConfigureAwait(false);
                break;
            case RowChangeKind.Delete:
                await AddRowAsync(table, RunKind.Delete, [.. change.Key], cancellationToken).ConfigureAwait(false);
                break;
            case RowChangeKind.Update:
                await UpdateAsync(table, change, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    public async ValueTask TruncateAsync(TruncateChange change, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var truncated = change.Tables.Where(plans.ContainsKey).Select(t => plans[t]).ToList();
        foreach (var statement in truncated.Count > 0 ? sql.EmptyTables(truncated, change.Cascade) : [])
        {
            await ExecuteAsync(statement, [], $"emptying {string.Join(", ", truncated.Select(t => t.Target))}", null, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task CommitAsync(ReplicationCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ReplicationStateStore.WriteCheckpointAsync(connection, new CheckpointRow(checkpoint.FetchId, checkpoint.Position.Notation,
                checkpoint.Position.ToString(), checkpoint.SourceCommittedAt, checkpoint.Transactions, checkpoint.Inserts, checkpoint.Updates,
                checkpoint.Deletes), cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw ApplyErrors.Classify(ex, $"committing the batch up to {checkpoint.Position}", null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException)
        {
            // The connection is gone, and the uncommitted transaction with it.
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask WriteNetAsync(TableApply table, RowChange change, CancellationToken cancellationToken)
    {
        if (!nets.TryGetValue(table.Target, out var net) || !ReferenceEquals(net.Table, table))
        {
            if (net is not null)
            {
                await FlushNetAsync(net, cancellationToken).ConfigureAwait(false);
            }

            nets[table.Target] = net = new TableNetChanges(table);
        }

        var (values, bytes) = (net.Values, net.Bytes);
        if (!net.TryAdd(change))
        {
            // Only the target knows the unchanged columns: what the net effect holds goes first, then the change alone.
            await FlushNetAsync(net, cancellationToken).ConfigureAwait(false);
            await WriteInOrderAsync(table, change, cancellationToken).ConfigureAwait(false);
            return;
        }

        netValues += net.Values - values;
        netBytes += net.Bytes - bytes;
        if (netValues >= NetValuesHeld || netBytes >= NetBytesHeld)
        {
            await FlushNetsAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask FlushNetsAsync(CancellationToken cancellationToken)
    {
        foreach (var net in nets.Values)
        {
            await FlushNetAsync(net, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask FlushNetAsync(TableNetChanges net, CancellationToken cancellationToken)
    {
        if (net.IsEmpty)
        {
            return;
        }

        (netValues, netBytes) = (netValues - net.Values, netBytes - net.Bytes);
        foreach (var statement in net.Drain(sql, ParametersPerRoundTrip, BytesPerStatement))
        {
            var command = new NpgsqlBatchCommand(statement.Sql);
            long bytes = 0;
            foreach (var row in statement.Rows)
            {
                for (var i = 0; i < row.Length; i++)
                {
                    command.Parameters.Add(Parameter(command.Parameters.Count, row[i], statement.Columns[i]));
                }

                bytes += Size(row);
            }

            await EnqueueAsync(command, statement.Doing, net.Table.Table.Name.ToString(), bytes, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask UpdateAsync(TableApply table, RowChange change, CancellationToken cancellationToken)
    {
        var (row, present) = table.Row(change.New!, change.Old);
        var complete = Array.TrueForAll(present, p => p);
        if (table.MatchesByAllColumns)
        {
            var set = Enumerable.Range(0, row.Length).Where(i => present[i]).ToList();
            await AddSingleAsync(table, sql.UpdateOneMatching(table.Target, set.Select(i => table.Columns[i]).ToList(), table.Match),
                set.Select(i => table.Plan.Columns[i]).ToList(), set.Select(i => row[i]).ToList(), change.Key, cancellationToken).ConfigureAwait(false);
        }
        else if (complete)
        {
            if (change.KeyChanged)
            {
                await AddRowAsync(table, RunKind.Delete, [.. change.Key], cancellationToken).ConfigureAwait(false);
            }

            await AddRowAsync(table, RunKind.Upsert, row, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Columns the source sent as unchanged keep the target's value: only the others are written, by the old key
            // (which also moves the row when the key changed).
            var set = Enumerable.Range(0, row.Length)
                .Where(i => present[i] && (change.KeyChanged || !table.ConflictColumns.Contains(table.Columns[i]))).ToList();
            if (set.Count > 0)
            {
                await AddSingleAsync(table, sql.UpdateByKey(table.Target, set.Select(i => table.Columns[i]).ToList(), table.KeyColumns),
                    set.Select(i => table.Plan.Columns[i]).ToList(), set.Select(i => row[i]).ToList(), change.Key, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask AddRowAsync(TableApply table, RunKind kind, object?[] values, CancellationToken cancellationToken)
    {
        var key = kind == RunKind.Upsert ? RowKeys.Text(values, table.ConflictOrdinals) : null;
        var bytes = Size(values);
        if (run is not null && !run.Accepts(table, kind, key, bytes, limits))
        {
            await FlushRunAsync(cancellationToken).ConfigureAwait(false);
        }

        run ??= new RowRun(table, kind);
        run.Add(values, key, bytes);
    }

    private async ValueTask AddSingleAsync(TableApply table, string statement, List<TargetColumn> setColumns, List<object?> setValues,
        IReadOnlyList<object?> key, CancellationToken cancellationToken)
    {
        await FlushRunAsync(cancellationToken).ConfigureAwait(false);
        var command = new NpgsqlBatchCommand(statement);
        for (var i = 0; i < setValues.Count; i++)
        {
            command.Parameters.Add(Parameter(command.Parameters.Count, setValues[i], setColumns[i]));
        }

        for (var i = 0; i < key.Count; i++)
        {
            command.Parameters.Add(Parameter(command.Parameters.Count, key[i], table.Keys[i]));
        }

        await EnqueueAsync(command, $"applying a single-row change to {table.Target}", table.Table.Name.ToString(), Size(setValues) + Size(key),
            cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        await FlushNetsAsync(cancellationToken).ConfigureAwait(false);
        await FlushRunAsync(cancellationToken).ConfigureAwait(false);
        await SendAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask FlushRunAsync(CancellationToken cancellationToken)
    {
        if (run is null)
        {
            return;
        }

        var (t, rows, kind, bytes) = (run.Table, run.Rows, run.Kind, run.Bytes);
        run = null;
        var (statement, columns, doing) = kind switch
        {
            RunKind.Upsert => (sql.Dialect.Upsert(t.Target, t.Columns, t.ConflictColumns, rows.Count), t.Plan.Columns, $"upserting {rows.Count} row(s) into {t.Target}"),
            RunKind.Insert => (sql.InsertRows(t.Target, t.Columns, rows.Count), t.Plan.Columns, $"inserting {rows.Count} row(s) into {t.Target}"),
            _ => (sql.Dialect.DeleteByKeys(t.Target, t.KeyColumns, rows.Count), t.Keys, $"deleting {rows.Count} row(s) from {t.Target}"),
        };
        var command = new NpgsqlBatchCommand(statement);
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                command.Parameters.Add(Parameter(command.Parameters.Count, row[i], columns[i]));
            }
        }

        await EnqueueAsync(command, doing, t.Table.Name.ToString(), bytes, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask EnqueueAsync(NpgsqlBatchCommand command, string doing, string? table, long bytes, CancellationToken cancellationToken)
    {
        pending.Add(command);
        pendingWhat.Add((doing, table));
        pendingBytes += bytes;
        pendingParameters += command.Parameters.Count;
        if (pending.Count >= StatementsPerRoundTrip || pendingBytes >= BytesPerRoundTrip || pendingParameters >= ParametersPerRoundTrip)
        {
            await SendAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends the pipelined statements in one round trip; an error names the statement that failed.</summary>
    private async ValueTask SendAsync(CancellationToken cancellationToken)
    {
        if (pending.Count == 0)
        {
            return;
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var command in pending)
        {
            batch.BatchCommands.Add(command);
        }

        var what = pendingWhat.ToArray();
        pending.Clear();
        pendingWhat.Clear();
        pendingBytes = 0;
        pendingParameters = 0;
        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A statement's count of rows is set when it completes: the first one without is the one that failed.
            var failed = ex is PostgresException ? batch.BatchCommands.Cast<NpgsqlBatchCommand>().TakeWhile(c => c.RecordsAffected >= 0).Count() : what.Length;
            throw failed < what.Length
                ? ApplyErrors.Classify(ex, what[failed].Doing, what[failed].Table)
                : ApplyErrors.Classify(ex, $"applying {what.Length} statement(s)", null);
        }
    }

    private async Task ExecuteAsync(string statement, IReadOnlyList<NpgsqlParameter> parameters, string doing, string? table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(statement, connection, transaction);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(parameter);
        }

        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw ApplyErrors.Classify(ex, doing, table);
        }
    }

    private TableApply Table(ChangeTable table)
    {
        if (tables.TryGetValue(table, out var known))
        {
            return known;
        }

        var plan = plans.GetValueOrDefault(table.Name) ?? throw new MoltException(MoltErrorKind.InvalidState, "TableNotPlanned",
            $"The source sent changes of table {table.Name}, which this stream does not replicate.",
            "Replicate the table (load it with the others), or leave it out of the source's publication.") { Target = table.Name.ToString() };
        return tables[table] = TableApply.Create(plan, table);
    }

    /// <summary>
    /// Text goes untyped, so the server reads it with the column's input function (as COPY does); other values (MySQL's
    /// converted ones) as the column's wire type, as the load's binary COPY writes them.
    /// </summary>
    private static NpgsqlParameter Parameter(int index, object? value, TargetColumn column) => value switch
    {
        null => new NpgsqlParameter { ParameterName = "p" + index, Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Unknown },
        // A PostGIS value's text is its hex EWKB; where the target had no PostGIS its bytea column reads hex in bytea's form.
        string text when column.Type.WireType == "bytea" && column.Source.Type.Family == ColumnTypeFamily.Spatial =>
            new NpgsqlParameter { ParameterName = "p" + index, Value = "\\x" + text, NpgsqlDbType = NpgsqlDbType.Unknown },
        string text => new NpgsqlParameter { ParameterName = "p" + index, Value = text, NpgsqlDbType = NpgsqlDbType.Unknown },
        _ => new NpgsqlParameter { ParameterName = "p" + index, Value = value, DataTypeName = column.Type.WireType },
    };

    internal static long Size(IReadOnlyList<object?> values)
    {
        long size = 0;
        for (var i = 0; i < values.Count; i++)
        {
            size += values[i] switch
            {
                null => 1,
                string s => s.Length + 4,
                byte[] b => b.Length + 4,
                _ => 12,
            };
        }

        return size;
    }

    private enum RunKind
    {
        Upsert,
        Insert,
        Delete,
    }

    /// <summary>Rows gathered for one multi-row statement.</summary>
    private sealed class RowRun(TableApply table, RunKind kind)
    {
        private readonly HashSet<string> keys = new(StringComparer.Ordinal);
        private long bytes;

        public TableApply Table => table;

        public RunKind Kind => kind;

        public long Bytes => bytes;

        public List<object?[]> Rows { get; } = [];

        /// <summary>
        /// An upsert of a key the statement has already starts the next statement (one statement may not name a key twice):
        /// putting the later row in the earlier one's place would write it before the rows between them, which a unique
        /// constraint the source satisfied at every step can refuse (two rows swapping a unique value through a third).
        /// </summary>
        public bool Accepts(TableApply other, RunKind otherKind, string? key, long size, ApplyBatchLimits limits) =>
            ReferenceEquals(other, table) && otherKind == kind && (key is null || !keys.Contains(key))
            && Rows.Count < limits.RowsPerStatement(Rows.Count > 0 ? Rows[0].Length : 1) && bytes + size <= BytesPerStatement;

        public void Add(object?[] values, string? key, long size)
        {
            bytes += size;
            if (key is not null)
            {
                keys.Add(key);
            }

            Rows.Add(values);
        }
    }
}
