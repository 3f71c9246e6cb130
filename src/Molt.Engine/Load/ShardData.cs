using System.Data.Common;
using Npgsql;

namespace Molt.Engine.Load;

/// <summary>
/// The rows of one shard as a source produces them, in one of two shapes the pgwire bulk writer accepts.
/// Disposing it ends the read and hands the snapshot's reader back.
/// </summary>
internal abstract class ShardData : IAsyncDisposable
{
    public abstract ValueTask DisposeAsync();
}

/// <summary>
/// A PostgreSQL binary COPY stream (header, tuples, trailer) whose columns already have the target's binary
/// representation: relayed to the target's COPY FROM STDIN (FORMAT binary) without decoding a row.
/// </summary>
internal sealed class BinaryCopyShard(Stream stream, Func<ValueTask> release) : ShardData
{
    public Stream Stream { get; } = stream;

    public override async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync().ConfigureAwait(false);
        await release().ConfigureAwait(false);
    }
}

/// <summary>
/// Rows read through a data reader and converted column by column: <see cref="Writers"/>[i] writes column i of the
/// current row into the target's binary import, in the target column's type.
/// </summary>
internal sealed class RowShard(DbDataReader reader, IReadOnlyList<ColumnWriter> writers, Func<ValueTask> release) : ShardData
{
    public DbDataReader Reader { get; } = reader;

    public IReadOnlyList<ColumnWriter> Writers { get; } = writers;

    public override async ValueTask DisposeAsync()
    {
        await Reader.DisposeAsync().ConfigureAwait(false);
        await release().ConfigureAwait(false);
    }
}

/// <summary>
/// Writes column <paramref name="ordinal"/> of the reader's current row into the import (NULL included) and returns the
/// bytes the field takes in the COPY stream (<see cref="BinaryCopySize"/>). Throws <see cref="RowRejectedException"/> for
/// a value that must not be loaded (e.g. a zero date under the reject option).
/// </summary>
public delegate ValueTask<int> ColumnWriter(DbDataReader reader, int ordinal, NpgsqlBinaryImporter importer, CancellationToken cancellationToken);

/// <summary>A source row that cannot be loaded as it is: recorded in the exceptions table, the shard fails, others go on.</summary>
internal sealed class RowRejectedException(string column, string reason) : Exception($"column {column}: {reason}")
{
    public string Column { get; } = column;

    public string Reason { get; } = reason;
}

/// <summary>
/// The rows of one shard as CSV for CockroachDB's IMPORT INTO (https://www.cockroachlabs.com/docs/stable/import-into):
/// RFC 4180 quoting, UTF-8, NULL written as an unquoted <see cref="Null"/>, bytes as \x hex, every other value in the
/// text form the target type parses.
/// </summary>
internal abstract class CsvShard : ShardData
{
    /// <summary>The NULL marker: unquoted it is NULL; a value that reads the same is written quoted.</summary>
    public const string Null = "\\N";

    /// <summary>
    /// Writes every row, one line each (quoted values may span lines); returns how many rows. <paramref name="progress"/>
    /// hears the rows written so far every few thousand rows.
    /// </summary>
    public abstract Task<long> WriteToAsync(TextWriter destination, Action<long>? progress, CancellationToken cancellationToken);
}
