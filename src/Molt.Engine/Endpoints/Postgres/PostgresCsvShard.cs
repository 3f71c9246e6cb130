using Molt.Engine.Load;
using Npgsql;

namespace Molt.Engine.Endpoints.Postgres;

/// <summary>A shard that PostgreSQL's COPY TO STDOUT (FORMAT csv) produces, passed through and its rows counted.</summary>
internal sealed class PostgresCsvShard(NpgsqlCopyTextReader export, Func<bool, ValueTask> release) : CsvShard
{
    private bool ended;

    public override async Task<long> WriteToAsync(TextWriter destination, Action<long>? progress, CancellationToken cancellationToken)
    {
        var buffer = new char[64 * 1024];
        var rows = new CsvRowCounter();
        int read;
        while ((read = await export.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            rows.Count(buffer.AsSpan(0, read));
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            progress?.Invoke(rows.Rows);
        }

        ended = true;
        return rows.Rows;
    }

    public override async ValueTask DisposeAsync()
    {
        if (!ended)
        {
            // Disposing an unfinished COPY would read the rest of the table: cancel it on the server instead.
            await export.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            await export.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException)
        {
            // The cancelled COPY reports itself cancelled; the savepoint rollback below recovers the reader.
        }

        await release(ended).ConfigureAwait(false);
    }
}

/// <summary>Counts CSV records: line ends outside double quotes.</summary>
internal struct CsvRowCounter
{
    private bool quoted;

    public long Rows { get; private set; }

    public void Count(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == '\n' && !quoted)
            {
                Rows++;
            }
        }
    }
}
