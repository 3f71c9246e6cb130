using System.Collections.Concurrent;
using System.Text;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Npgsql;
using Serilog;
using Serilog.Events;

namespace Molt.Engine.Load;

/// <summary>
/// The IMPORT INTO path for one table: its unfinished shards are written from the snapshot as CSV files, then one
/// IMPORT INTO loads them all, and only then are the shards marked done. IMPORT INTO is all or nothing for the table,
/// so a failed or interrupted table is exported and imported again on resume.
/// </summary>
internal sealed class TableImporter(ILoadTarget target, ImportIntoOptions import, ILogger log)
{
    /// <summary>Exports and imports the table's unfinished shards; returns the error, or null.</summary>
    /// <param name="progress">Receives rows and bytes as they are exported (taken back, negative, when the import fails).</param>
    public async Task<string?> ImportAsync(LoadStateStore state, string fetchId, PlannedTable table, IReadOnlyList<ShardState> shards,
        ISourceSnapshot snapshot, int parallelism, Action<long, long> progress, CancellationToken cancellationToken)
    {
        var plan = table.Plan;
        var sourceTable = plan.Source.Name.ToString();
        var ddl = new TargetDdl(state, log);
        var folder = Path.Combine(import.Directory, fetchId);
        Directory.CreateDirectory(folder);
        var files = new ConcurrentDictionary<int, (string Name, long Rows, long Bytes)>();
        var pending = shards.Where(s => !s.IsDone).ToList();
        try
        {
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellationToken },
                async (shard, ct) =>
                {
                    var name = $"{FileStem(plan)}.{shard.Shard}.csv";
                    var (rows, bytes) = await ExportAsync(snapshot, table, shard, Path.Combine(folder, name), ct).ConfigureAwait(false);
                    files[shard.Shard] = (name, rows, bytes);
                    progress(rows, bytes);
                }).ConfigureAwait(false);

            var urls = pending.Select(s => import.UrlOf($"{fetchId}/{files[s.Shard].Name}")).ToList();
            var sql = target.Dialect.ImportInto(plan, urls)!;
            await using var connection = await target.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            // IMPORT INTO runs as a job outside any explicit transaction (only its DETACHED form may run inside one), so
            // the shards are marked done right after it: a crash between the two is the one window in which a resumed
            // run would import the table's rows a second time (README says so).
            await ddl.ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            foreach (var shard in pending)
            {
                var file = files[shard.Shard];
                await LoadStateStore.MarkShardDoneAsync(connection, fetchId, sourceTable, shard.Shard, file.Rows, file.Bytes, snapshot.Visibility, cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            if (await ConstraintValidation.ValidateAsync(connection, target.Dialect, plan.Target, cancellationToken).ConfigureAwait(false) is { } broken)
            {
                // The rows are in and their shards done (importing again would conflict with them): the table fails
                // until the user mends the rows and validates the constraint.
                var message = $"{broken}. Fix the rows, then run ALTER TABLE {target.Dialect.Quote(plan.Target)} VALIDATE CONSTRAINT for it.";
                await ddl.RecordAsync(fetchId, sourceTable, LogEventLevel.Error, null, message).ConfigureAwait(false);
                DeleteFiles(folder, files.Values);
                return message;
            }
        }
        catch (Exception ex) when (ShardFailure.IsShardFailure(ex) && !cancellationToken.IsCancellationRequested)
        {
            // Nothing of the table was loaded: the exported rows no longer count. (A driver's error for a cancelled
            // export or import is an interruption, for the caller, not a failure to record.)
            progress(-files.Values.Sum(f => f.Rows), -files.Values.Sum(f => f.Bytes));
            var failure = ShardFailure.From(ex);
            var message = $"IMPORT INTO failed: {failure.Message}";
            log.Error("{Table:l}: {Message:l} (the files stay in {Folder} for inspection)", sourceTable, message, folder);
            await state.RecordExceptionAsync(new LoadFailureRecord(fetchId, sourceTable, null, LoadStage.DataLoad, failure.SqlState, message, failure.RowKey),
                CancellationToken.None).ConfigureAwait(false);
            return message;
        }

        DeleteFiles(folder, files.Values);
        return null;
    }

    private static void DeleteFiles(string folder, IEnumerable<(string Name, long Rows, long Bytes)> files)
    {
        foreach (var file in files)
        {
            File.Delete(Path.Combine(folder, file.Name));
        }
    }

    private static async Task<(long Rows, long Bytes)> ExportAsync(ISourceSnapshot snapshot, PlannedTable table, ShardState shard, string path,
        CancellationToken cancellationToken)
    {
        await using var data = await snapshot.ReadCsvAsync(table.Plan, shard.Range, table.Where, cancellationToken).ConfigureAwait(false);
        await using var file = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16);
        var rows = await data.WriteToAsync(file, progress: null, cancellationToken).ConfigureAwait(false);
        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        return (rows, file.BaseStream.Length);
    }

    /// <summary>A file name that says which table it holds and is safe in any URL: letters and digits kept, the rest hex-escaped.</summary>
    private static string FileStem(TablePlan plan) =>
        string.Concat($"{plan.Target.Schema}.{plan.Target.Name}".Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c.ToString() : $"~{(int)c:x4}"));
}
