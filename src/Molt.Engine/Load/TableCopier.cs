using System.Collections.Concurrent;
using System.Diagnostics;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Serilog;
using Serilog.Events;

namespace Molt.Engine.Load;

/// <summary>
/// Loads one table: splits it into shards (recorded, so a resumed run reads the same ones), copies the shards not done
/// yet in parallel (or exports and imports them with IMPORT INTO), then adds a deferred primary key.
/// </summary>
internal sealed class TableCopier(ILoadTarget target, BulkLoadOptions options, LoadTimings timings, ILogger log)
{
    /// <summary>Bounds the shard rows kept in _molt.fetch_shards however small the target's transaction limit.</summary>
    private const int MaxShardsPerTable = 10_000;

    public async Task<TableLoadResult> LoadTableAsync(LoadStateStore state, string fetchId, PlannedTable table, ISourceSnapshot snapshot,
        BulkLoadCallbacks callbacks, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var plan = table.Plan;
        var name = plan.Source.Name;
        if (table.Warning is not null)
        {
            log.Warning("{Warning:l}", table.Warning);
        }

        IReadOnlyList<ShardState> shards = [];
        var progress = new TableCounter(0, 0);
        var errors = new ConcurrentQueue<string>();
        var diskFull = 0;
        void Report((long Rows, long Bytes) sofar) =>
            callbacks.Progress?.Invoke(new TableProgress(name, sofar.Rows, plan.Source.EstimatedRows, sofar.Bytes, clock.Elapsed) { RowsBefore = progress.RowsBefore });
        try
        {
            shards = await timings.TimeAsync("split", async () =>
            {
                var recorded = await state.ReadShardsAsync(fetchId, name.ToString(), cancellationToken).ConfigureAwait(false);
                return recorded.Count > 0 ? recorded : await state.RecordShardsAsync(fetchId, name.ToString(), plan.Target.ToString(),
                    await SplitAsync(plan.Source, table.Where, snapshot, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);

            progress = new TableCounter(shards.Where(s => s.IsDone).Sum(s => s.Rows), shards.Where(s => s.IsDone).Sum(s => s.Bytes));
            log.Information("Loading {Table} into {Target}: {Shards} shards, {Done} already done{Key:l}", name, plan.Target, shards.Count, shards.Count(s => s.IsDone),
                table.PrimaryKey is { } key ? "; primary key " + key.Reason : "");
            if (options.Import is { } import)
            {
                var error = await new TableImporter(target, import, log).ImportAsync(state, fetchId, table, shards, snapshot, options.ShardsPerTable,
                    (rows, bytes) => Report(progress.Add(rows, bytes)), cancellationToken).ConfigureAwait(false);
                if (error is not null)
                {
                    errors.Enqueue(error);
                }
            }
            else
            {
                await Parallel.ForEachAsync(shards.Where(s => !s.IsDone),
                    new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.ShardsPerTable), CancellationToken = cancellationToken },
                    async (shard, ct) =>
                    {
                        var failure = await timings.TimeAsync("copy", () => LoadShardAsync(state, fetchId, table, shard, snapshot, progress, clock, callbacks, ct))
                            .ConfigureAwait(false);
                        if (failure is not null)
                        {
                            errors.Enqueue(failure.Message);
                            if (failure.DiskFull)
                            {
                                Interlocked.Exchange(ref diskFull, 1);
                            }
                        }
                    }).ConfigureAwait(false);
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled while splitting, or while its shards load (each records itself interrupted).
            return new TableLoadResult(fetchId, name, plan.Target, progress.Rows, progress.Bytes, clock.Elapsed, TableLoadStatus.Interrupted,
                "interrupted", shards.Count) { RowsBefore = progress.RowsBefore, PrimaryKey = table.PrimaryKey };
        }

        if (errors.IsEmpty && table.PrimaryKeyAfterLoad is { } addKey)
        {
            await timings.TimeAsync("primary key", () => AddPrimaryKeyAsync(state, fetchId, name, addKey, errors, cancellationToken)).ConfigureAwait(false);
        }

        var status = errors.IsEmpty ? TableLoadStatus.Succeeded : TableLoadStatus.Failed;
        log.Information("{Table}: {Status}, {Rows} rows in {Seconds:F1} s", name, status, progress.Rows, clock.Elapsed.TotalSeconds);
        if (status == TableLoadStatus.Succeeded && progress.Rows == 0 && plan.Source.EstimatedRows > 0)
        {
            log.Warning("{Table} loaded no rows, though the source's statistics estimate {Estimate} rows: check its -Where filter ({Where:l}) and that -Source names the right source database (or the statistics are stale)",
                name, plan.Source.EstimatedRows, table.Where ?? "none");
        }

        return new TableLoadResult(fetchId, name, plan.Target, progress.Rows, progress.Bytes, clock.Elapsed, status,
            errors.IsEmpty ? null : string.Join("; ", errors), shards.Count) { RowsBefore = progress.RowsBefore, PrimaryKey = table.PrimaryKey, TargetDiskFull = diskFull != 0 };
    }

    /// <summary>
    /// Enough shards to use the table's readers, few enough that none is tiny; more where the target caps the rows of one
    /// transaction. The catalog's estimate of the rows is used where there is one and the target sets no cap; otherwise
    /// the rows are counted in the snapshot, as a missing estimate (a table never analysed) or a stale one would make
    /// shards too large to commit. A source may still read a key type it cannot split as one range (see its SplitAsync).
    /// </summary>
    private async Task<IReadOnlyList<KeyRange>> SplitAsync(TableModel table, string? where, ISourceSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (!table.HasPrimaryKey)
        {
            return [KeyRange.All];
        }

        var limit = target.Dialect.MaxRowsPerTransaction;
        var rows = limit is null && table.EstimatedRows > 0
            ? table.EstimatedRows
            : await snapshot.CountRowsAsync(table, where, cancellationToken).ConfigureAwait(false);
        var shards = (int)Math.Clamp(rows / Math.Max(1, options.MinRowsPerShard), 1, Math.Max(1, options.ShardsPerTable));
        if (limit is { } cap)
        {
            shards = (int)Math.Min(Math.Max(shards, (rows + cap - 1) / cap), MaxShardsPerTable);
        }

        return await snapshot.SplitAsync(table, shards, rows, where, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loads one shard; returns its failure, or null. Cancellation marks it interrupted and propagates.</summary>
    private async Task<ShardFailure?> LoadShardAsync(LoadStateStore state, string fetchId, PlannedTable table, ShardState shard, ISourceSnapshot snapshot,
        TableCounter counter, Stopwatch clock, BulkLoadCallbacks callbacks, CancellationToken cancellationToken)
    {
        var plan = table.Plan;
        var sourceTable = plan.Source.Name.ToString();
        var before = (Rows: 0L, Bytes: 0L);
        void Report(ShardCopyResult sofar)
        {
            var (rows, bytes) = counter.Add(sofar.Rows - before.Rows, sofar.Bytes - before.Bytes);
            before = (sofar.Rows, sofar.Bytes);
            callbacks.Progress?.Invoke(new TableProgress(plan.Source.Name, rows, plan.Source.EstimatedRows, bytes, clock.Elapsed) { RowsBefore = counter.RowsBefore });
        }

        try
        {
            // A serialization failure (CockroachDB's 40001) aborts the whole shard transaction: the shard is read again from
            // the same snapshot and copied again.
            var (result, attempts) = await target.Retry.RunAsync(async ct =>
            {
                counter.Add(-before.Rows, -before.Bytes);
                before = (0, 0);
                await using var data = await snapshot.ReadAsync(plan, shard.Range, table.Where, ct).ConfigureAwait(false);
                return await target.Writer.CopyAsync(plan, data,
                    (connection, copied) => LoadStateStore.MarkShardDoneAsync(connection, fetchId, sourceTable, shard.Shard, copied.Rows, copied.Bytes, snapshot.Visibility, ct),
                    Report, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            if (attempts > 1)
            {
                log.Information("{Table:l} shard {Shard} was copied on attempt {Attempts} after serialization failures", sourceTable, shard.Shard, attempts);
            }

            Report(result);
            return null;
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C reaches a shard as OperationCanceledException, or as the error a driver makes of the query or
            // connection it cancelled (a COPY ended under it, "Query execution was interrupted", a stream cut short): either
            // way the shard was interrupted, not failed, and is loaded again on resume.
            counter.Add(-before.Rows, -before.Bytes);
            await state.MarkShardFailedAsync(fetchId, sourceTable, shard.Shard, ShardStatus.Interrupted, "interrupted", CancellationToken.None).ConfigureAwait(false);
            if (ex is OperationCanceledException)
            {
                throw;
            }

            log.Debug(ex, "{Table:l} shard {Shard} was interrupted", sourceTable, shard.Shard);
            throw new OperationCanceledException("The load was cancelled.", ex, cancellationToken);
        }
        catch (Exception ex) when (ShardFailure.IsShardFailure(ex))
        {
            counter.Add(-before.Rows, -before.Bytes);
            var failure = ShardFailure.From(ex);
            log.Error("{Table:l} shard {Shard} ({Range}) failed: {Error:l}", sourceTable, shard.Shard, shard.Range, failure.Message);
            try
            {
                await state.MarkShardFailedAsync(fetchId, sourceTable, shard.Shard, ShardStatus.Failed, failure.Message, CancellationToken.None).ConfigureAwait(false);
                await state.RecordExceptionAsync(new LoadFailureRecord(fetchId, sourceTable, shard.Shard, LoadStage.DataLoad, failure.SqlState, failure.Message,
                    failure.RowKey), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception recording) when (failure.DiskFull && ShardFailure.IsShardFailure(recording) && ShardFailure.From(recording).DiskFull)
            {
                // A full disk can refuse the record of the failure too: the shard then stays recorded not done, which is
                // what a resume needs to load it again, so the table fails as it would have, not the whole load.
                log.Warning("{Table:l} shard {Shard}: its failure could not be recorded, as the target's disk is full; it stays to be loaded on resume",
                    sourceTable, shard.Shard);
            }

            return failure;
        }
    }

    private async Task AddPrimaryKeyAsync(LoadStateStore state, string fetchId, TableName table, string sql, ConcurrentQueue<string> errors,
        CancellationToken cancellationToken)
    {
        await using var connection = await target.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (await new TargetDdl(state, log).TryExecuteAsync(connection, fetchId, table.ToString(), sql, "primary key not added", LogEventLevel.Error, null,
                cancellationToken).ConfigureAwait(false) is { } error)
        {
            errors.Enqueue(error);
        }
    }

    /// <summary>Rows and bytes of one table, summed over its shards from several threads, from those earlier attempts loaded.</summary>
    private sealed class TableCounter(long rows, long bytes)
    {
        private long rows = rows;
        private long bytes = bytes;

        public long RowsBefore { get; } = rows;

        public long Rows => Interlocked.Read(ref rows);

        public long Bytes => Interlocked.Read(ref bytes);

        public (long Rows, long Bytes) Add(long addedRows, long addedBytes) =>
            (Interlocked.Add(ref rows, addedRows), Interlocked.Add(ref bytes, addedBytes));
    }
}
