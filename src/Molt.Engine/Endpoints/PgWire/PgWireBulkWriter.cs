using Molt.Engine.Load;
using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// Writes shards into a pgwire target (PostgreSQL, CockroachDB) with COPY FROM STDIN (FORMAT binary), each shard in
/// one transaction that also records it as done, so a shard is loaded entirely or not at all.
/// </summary>
internal sealed class PgWireBulkWriter(NpgsqlDataSource target, ITargetDialect dialect) : IShardWriter
{
    private const int CopyBufferSize = 256 * 1024;
    private const int ProgressEveryRows = 10_000;

    /// <param name="onCommitting">Runs on the shard's connection and transaction after its rows are written, before the commit.</param>
    /// <param name="progress">Receives the rows and bytes written so far, every few thousand rows.</param>
    public async Task<ShardCopyResult> CopyAsync(TablePlan plan, ShardData data, Func<NpgsqlConnection, ShardCopyResult, Task> onCommitting,
        Action<ShardCopyResult> progress, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var copy = dialect.CopyFromStdin(plan);
        var result = data switch
        {
            BinaryCopyShard binary => await RelayAsync(connection, copy, binary, progress, cancellationToken).ConfigureAwait(false),
            RowShard rows => await ImportAsync(connection, copy, rows, plan, progress, cancellationToken).ConfigureAwait(false),
            CsvShard csv => await CopyCsvAsync(connection, dialect.CopyCsvFromStdin(plan), csv, progress, cancellationToken).ConfigureAwait(false),
            _ => throw new ArgumentException($"Unknown shard data {data.GetType().Name}.", nameof(data)),
        };
        await onCommitting(connection, result).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    private static async Task<ShardCopyResult> RelayAsync(NpgsqlConnection connection, string copy, BinaryCopyShard data, Action<ShardCopyResult> progress,
        CancellationToken cancellationToken)
    {
        var counter = new BinaryCopyCounter();
        var buffer = new byte[CopyBufferSize];
        var reported = 0L;
        await using (var destination = await connection.BeginRawBinaryCopyAsync(copy, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                int read;
                while ((read = await FillAsync(data.Stream, buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    counter.Observe(buffer.AsSpan(0, read));
                    await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    if (counter.Tuples - reported >= ProgressEveryRows)
                    {
                        reported = counter.Tuples;
                        progress(new ShardCopyResult(counter.Tuples, counter.Bytes));
                    }
                }
            }
            catch
            {
                await CancelQuietlyAsync(destination.CancelAsync).ConfigureAwait(false);
                throw;
            }

            if (!counter.SawTrailer)
            {
                await CancelQuietlyAsync(destination.CancelAsync).ConfigureAwait(false);
                throw new InvalidDataException("The source's COPY stream ended without its trailer; the shard is not loaded.");
            }
        }

        return new ShardCopyResult(counter.Tuples, counter.Bytes);
    }

    /// <summary>
    /// Reads until the buffer is full or the stream ends: a COPY stream returns one row per read, and writing row by
    /// row would cost a call per row on the way out.
    /// </summary>
    private static async ValueTask<int> FillAsync(Stream source, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        int read;
        while (filled < buffer.Length && (read = await source.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
        {
            filled += read;
        }

        return filled;
    }

    // Cancelling fails when the connection is already gone; the error that got us here is the one to report.
    private static async Task CancelQuietlyAsync(Func<Task> cancel)
    {
        try
        {
            await cancel().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private static async Task<ShardCopyResult> CopyCsvAsync(NpgsqlConnection connection, string copy, CsvShard data, Action<ShardCopyResult> progress,
        CancellationToken cancellationToken)
    {
        var writer = (NpgsqlCopyTextWriter)await connection.BeginTextImportAsync(copy, cancellationToken).ConfigureAwait(false);
        var counted = new CountingTextWriter(writer);
        long rows;
        try
        {
            rows = await data.WriteToAsync(counted, sofar => progress(new ShardCopyResult(sofar, counted.Bytes)), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Disposing the writer would end the COPY as if complete: cancel it, so the server discards the shard. A
            // cancelled writer is not disposed: it would flush what it buffered into the ended COPY and hide this error.
            await CancelQuietlyAsync(writer.CancelAsync).ConfigureAwait(false);
            throw;
        }

        await writer.DisposeAsync().ConfigureAwait(false);
        return new ShardCopyResult(rows, counted.Bytes);
    }

    private static async Task<ShardCopyResult> ImportAsync(NpgsqlConnection connection, string copy, RowShard data, TablePlan plan,
        Action<ShardCopyResult> progress, CancellationToken cancellationToken)
    {
        var rows = 0L;
        var bytes = (long)BinaryCopySize.Header;
        await using var importer = await connection.BeginBinaryImportAsync(copy, cancellationToken).ConfigureAwait(false);
        var reader = data.Reader;
        var writers = data.Writers;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            bytes += BinaryCopySize.TupleHeader;
            for (var i = 0; i < writers.Count; i++)
            {
                try
                {
                    bytes += await writers[i](reader, i, importer, cancellationToken).ConfigureAwait(false);
                }
                catch (RowRejectedException ex)
                {
                    throw ShardRowRejectedException.At(plan, reader, rows, ex);
                }
            }

            if (++rows % ProgressEveryRows == 0)
            {
                progress(new ShardCopyResult(rows, bytes));
            }
        }

        await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return new ShardCopyResult(rows, bytes + BinaryCopySize.Trailer);
    }
}
