using System.Text;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using MySqlConnector;
using Serilog;

namespace Molt.Engine.Endpoints.MySql.Apply;

/// <summary>
/// One transaction of failback into MySQL or MariaDB. Consecutive changes of one table and one kind are gathered into
/// one multi-row statement (INSERT ... ON DUPLICATE KEY UPDATE, a DELETE by keys, a plain INSERT for a keyless table;
/// a table with a secondary unique key is written row by row by its primary key, see <see cref="WriteByKeyAsync"/>);
/// anything else, and a row whose key the statement holds already, writes the gathered statement first. So the
/// original sees every change in the target's commit order, and foreign keys hold at each statement as they did on the
/// target: checks stay on, except while one truncate of several tables empties them (the target emptied them at once).
/// </summary>
internal sealed class MySqlApplyTransaction : IApplyTransaction
{
    /// <summary>A statement's text stays well under max_allowed_packet (16 MiB by default on MariaDB, 64 MiB on MySQL 8).</summary>
    private const long BytesPerStatement = 4L * 1024 * 1024;

    private readonly MySqlConnection connection;
    private readonly MySqlTransaction transaction;
    private readonly ApplyBatchLimits limits;
    private readonly Dictionary<TableName, TablePlan> plans;
    private readonly IReadOnlyDictionary<TableName, TableModel> originals;
    private readonly ZeroDateHandling zeroDates;
    private readonly ILogger log;
    private readonly Dictionary<ChangeTable, MySqlTableApply> tables = new(ReferenceEqualityComparer.Instance);
    private RowRun? run;

    public MySqlApplyTransaction(MySqlConnection connection, MySqlTransaction transaction, ApplyBatchLimits limits, IReadOnlyList<TablePlan> plans,
        IReadOnlyDictionary<TableName, TableModel> originals, ZeroDateHandling zeroDates, ILogger log)
    {
        this.connection = connection;
        this.transaction = transaction;
        this.limits = limits;
        this.plans = plans.ToDictionary(p => p.Source.Name);
        this.originals = originals;
        this.zeroDates = zeroDates;
        this.log = log;
    }

    public async ValueTask WriteAsync(RowChange change, CancellationToken cancellationToken)
    {
        var table = Table(change.Table);
        switch (change.Kind)
        {
            case RowChangeKind.Insert:
                var (row, _) = table.Row(change.New!, null);
                await AddRowAsync(table, table.Rows.MatchesByAllColumns ? RunKind.Insert : RunKind.Upsert, row, cancellationToken).ConfigureAwait(false);
                break;
            case RowChangeKind.Delete when table.Rows.MatchesByAllColumns:
                await ExecuteSingleAsync(table, MySqlApplySql.DeleteOneMatching(table.Target, table.Rows.KeyColumns), table.Key(change.Key), cancellationToken)
                    .ConfigureAwait(false);
                break;
            case RowChangeKind.Delete:
                await AddRowAsync(table, RunKind.Delete, table.Key(change.Key), cancellationToken).ConfigureAwait(false);
                break;
            case RowChangeKind.Update:
                await UpdateAsync(table, change, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    public async ValueTask TruncateAsync(TruncateChange change, CancellationToken cancellationToken)
    {
        await FlushRunAsync(cancellationToken).ConfigureAwait(false);
        var targets = change.Tables.Where(plans.ContainsKey).Select(t => plans[t].Target).ToList();
        var together = targets.Count > 1;
        if (together)
        {
            log.Information("Foreign key checks are off while {Tables} are emptied together: the target truncated them at once, so no order of deletes " +
                "is valid for every foreign key among them.", string.Join(", ", targets));
            await ExecuteAsync("SET SESSION foreign_key_checks = 0", [], "turning foreign key checks off", null, cancellationToken).ConfigureAwait(false);
        }

        foreach (var target in targets)
        {
            await ExecuteAsync(MySqlApplySql.Empty(target), [], $"emptying {target}", target.ToString(), cancellationToken).ConfigureAwait(false);
        }

        if (together)
        {
            await ExecuteAsync("SET SESSION foreign_key_checks = 1", [], "turning foreign key checks on", null, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task CommitAsync(ReplicationCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        await FlushRunAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await MySqlCheckpointStore.WriteAsync(connection, transaction, checkpoint, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw MySqlApplyErrors.Classify(ex, $"committing the batch up to {checkpoint.Position}", null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or IOException)
        {
            // The connection is gone, and the uncommitted transaction with it.
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask UpdateAsync(MySqlTableApply table, RowChange change, CancellationToken cancellationToken)
    {
        var (row, present) = table.Row(change.New!, change.Old);
        if (table.Rows.MatchesByAllColumns)
        {
            var set = Enumerable.Range(0, row.Length).Where(i => present[i]).ToList();
            await ExecuteSingleAsync(table, MySqlApplySql.UpdateOneMatching(table.Target, set.Select(i => table.WrittenColumns[i]).ToList(), table.Rows.KeyColumns),
                [.. set.Select(i => row[i]), .. table.Key(change.Key)], cancellationToken).ConfigureAwait(false);
        }
        else if (Array.TrueForAll(present, p => p))
        {
            if (change.KeyChanged)
            {
                // Moved by an UPDATE of the old key, as the target moved it: the original's ON UPDATE CASCADE carries the
                // referencing rows along, where deleting the old row would cascade its delete down to rows the target kept.
                await ExecuteSingleAsync(table, MySqlApplySql.UpdateByKey(table.Target, table.WrittenColumns, table.Rows.KeyColumns),
                    [.. row, .. table.Key(change.Key)], cancellationToken).ConfigureAwait(false);
            }

            // Also after a move: the row is there afterwards even where the original had lost the old one.
            await AddRowAsync(table, RunKind.Upsert, row, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Columns the target sent as unchanged keep the original's value: only the others are written, by the old key
            // (which also moves the row when the key changed).
            var set = Enumerable.Range(0, row.Length)
                .Where(i => present[i] && (change.KeyChanged || !table.Rows.ConflictColumns.Contains(table.WrittenColumns[i]))).ToList();
            if (set.Count > 0)
            {
                await ExecuteSingleAsync(table, MySqlApplySql.UpdateByKey(table.Target, set.Select(i => table.WrittenColumns[i]).ToList(), table.Rows.KeyColumns),
                    [.. set.Select(i => row[i]), .. table.Key(change.Key)], cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask AddRowAsync(MySqlTableApply table, RunKind kind, object[] values, CancellationToken cancellationToken)
    {
        if (kind == RunKind.Upsert && table.HasSecondaryUniqueKey)
        {
            await WriteByKeyAsync(table, values, cancellationToken).ConfigureAwait(false);
            return;
        }

        var key = kind == RunKind.Upsert ? KeyText(values, table.ConflictOrdinals) : null;
        var bytes = PgWireApplyTransaction.Size(values);
        if (run is not null && !run.Accepts(table, kind, key, bytes, limits))
        {
            await FlushRunAsync(cancellationToken).ConfigureAwait(false);
        }

        run ??= new RowRun(table, kind);
        run.Add(values, key, bytes);
    }

    /// <summary>
    /// A whole row of a table with a secondary unique key: updated by its primary key, or inserted when no row has that
    /// key. A value another row holds on a unique key is then refused (1062) instead of updating that other row, as
    /// ON DUPLICATE KEY UPDATE would.
    /// </summary>
    private async ValueTask WriteByKeyAsync(MySqlTableApply table, object[] values, CancellationToken cancellationToken)
    {
        await FlushRunAsync(cancellationToken).ConfigureAwait(false);
        var set = table.SetOrdinals;
        var matched = await ExecuteAsync(MySqlApplySql.UpdateByKey(table.Target, set.Select(i => table.WrittenColumns[i]).ToList(), table.Rows.ConflictColumns),
            [.. set.Select(i => values[i]), .. table.ConflictOrdinals.Select(i => values[i])], $"updating a row of {table.Target} by its primary key",
            table.Target.ToString(), cancellationToken).ConfigureAwait(false);
        if (matched == 0)
        {
            await ExecuteAsync(MySqlApplySql.Insert(table.Target, table.WrittenColumns, 1), values, $"inserting a row into {table.Target}", table.Target.ToString(),
                cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask ExecuteSingleAsync(MySqlTableApply table, string statement, object[] values, CancellationToken cancellationToken)
    {
        await FlushRunAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(statement, values, $"applying a single-row change to {table.Target}", table.Target.ToString(), cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask FlushRunAsync(CancellationToken cancellationToken)
    {
        if (run is null)
        {
            return;
        }

        var (t, rows, kind) = (run.Table, run.Rows, run.Kind);
        run = null;
        var (statement, doing) = kind switch
        {
            RunKind.Upsert => (MySqlApplySql.Upsert(t.Target, t.WrittenColumns, t.Rows.ConflictColumns, rows.Count), $"upserting {rows.Count} row(s) into {t.Target}"),
            RunKind.Insert => (MySqlApplySql.Insert(t.Target, t.WrittenColumns, rows.Count), $"inserting {rows.Count} row(s) into {t.Target}"),
            _ => (MySqlApplySql.DeleteByKeys(t.Target, t.Rows.KeyColumns, rows.Count), $"deleting {rows.Count} row(s) from {t.Target}"),
        };
        await ExecuteAsync(statement, rows.SelectMany(r => r).ToArray(), doing, t.Target.ToString(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs one statement of the batch; returns the rows it matched (the connection counts found rows, not changed ones).</summary>
    private async Task<int> ExecuteAsync(string statement, object[] values, string doing, string? table, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(statement, connection, transaction);
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue("@p" + i, values[i]);
        }

        try
        {
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw MySqlApplyErrors.Classify(ex, doing, table);
        }
    }

    private MySqlTableApply Table(ChangeTable table)
    {
        if (tables.TryGetValue(table, out var known))
        {
            return known;
        }

        var plan = plans.GetValueOrDefault(table.Name) ?? throw new MoltException(MoltErrorKind.InvalidState, "TableNotPlanned",
            $"The target sent changes of table {table.Name}, which this failback does not apply.",
            "Fail back the tables the migration loaded, or leave the table out of the failback slot's publication.") { Target = table.Name.ToString() };
        return tables[table] = MySqlTableApply.Create(plan, table, originals[plan.Target], zeroDates);
    }

    /// <summary>A row's key as one string (each value length-prefixed, so no two keys spell alike).</summary>
    private static string KeyText(object[] values, IReadOnlyList<int> ordinals)
    {
        var text = new StringBuilder();
        foreach (var ordinal in ordinals)
        {
            var value = values[ordinal] switch
            {
                DBNull => null,
                byte[] bytes => Convert.ToHexString(bytes),
                var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
            };
            text.Append(value is null ? "~" : $"{value.Length}:{value}");
        }

        return text.ToString();
    }

    private enum RunKind
    {
        Upsert,
        Insert,
        Delete,
    }

    /// <summary>Rows gathered for one multi-row statement.</summary>
    private sealed class RowRun(MySqlTableApply table, RunKind kind)
    {
        private readonly HashSet<string> keys = new(StringComparer.Ordinal);
        private long bytes;

        public MySqlTableApply Table => table;

        public RunKind Kind => kind;

        public List<object[]> Rows { get; } = [];

        /// <summary>
        /// Whether the row joins this statement: the same table and kind, within the bounds, and (an upsert) not a key it
        /// holds, whose later state must follow whatever came between them (a foreign key of the table on itself).
        /// </summary>
        public bool Accepts(MySqlTableApply other, RunKind otherKind, string? key, long size, ApplyBatchLimits limits) =>
            ReferenceEquals(other, table) && otherKind == kind && (key is null || !keys.Contains(key))
            && Rows.Count < limits.RowsPerStatement(Rows.Count > 0 ? Rows[0].Length : 1) && bytes + size <= BytesPerStatement;

        public void Add(object[] values, string? key, long size)
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
