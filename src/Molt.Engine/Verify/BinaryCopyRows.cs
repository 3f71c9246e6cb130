using System.Buffers.Binary;

namespace Molt.Engine.Verify;

/// <summary>
/// The tuples of a PostgreSQL binary COPY stream, one at a time, as spans over a buffer of its own: no value is decoded
/// and nothing is allocated per row. A row's spans are valid until the next <see cref="ReadAsync"/>. The buffer is filled
/// a chunk at a time (Npgsql's copy stream returns one row's message per read), so rows are moved only once per chunk.
/// </summary>
internal sealed class BinaryCopyRows : IAsyncDisposable
{
    private const int ChunkSize = 1 << 18;
    // "PGCOPY\n\377\r\n\0"
    private static readonly byte[] Signature = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00];

    private readonly Stream stream;
    private readonly Func<bool, ValueTask> release;
    private readonly int[] offsets;
    private readonly int[] lengths;
    private byte[] buffer = new byte[2 * ChunkSize];
    private int start;
    private int end;
    private int rowEnd;
    private bool headerRead;
    private bool streamEnded;

    /// <param name="release">Called once when disposed, with whether the stream was read to its end.</param>
    public BinaryCopyRows(Stream stream, int fieldCount, Func<bool, ValueTask> release)
    {
        this.stream = stream;
        this.release = release;
        offsets = new int[fieldCount];
        lengths = new int[fieldCount];
    }

    /// <summary>Whether the trailer was read: the server sent every row.</summary>
    public bool Ended { get; private set; }

    public int FieldCount => offsets.Length;

    public bool IsNull(int field) => lengths[field] < 0;

    /// <summary>A field's value bytes (empty for NULL: ask <see cref="IsNull"/>).</summary>
    public ReadOnlySpan<byte> Field(int field) => lengths[field] < 0 ? default : buffer.AsSpan(offsets[field], lengths[field]);

    /// <summary>
    /// The fields from <paramref name="field"/> to the row's end as sent, each with its length: equal spans are equal values.
    /// Empty past the last field (a table whose every column is its key).
    /// </summary>
    public ReadOnlySpan<byte> FieldsFrom(int field) => field >= offsets.Length ? default : buffer.AsSpan(offsets[field] - 4, rowEnd - offsets[field] + 4);

    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        if (Ended)
        {
            return false;
        }

        start = rowEnd;
        if (!headerRead)
        {
            await SkipHeaderAsync(cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            switch (TryParse())
            {
                case Parse.Row:
                    return true;
                case Parse.Trailer:
                    Ended = true;
                    return false;
                default:
                    if (!await FillAsync(cancellationToken).ConfigureAwait(false))
                    {
                        throw new InvalidDataException("The binary COPY stream ended inside a row.");
                    }

                    break;
            }
        }
    }

    private enum Parse
    {
        Row,
        Trailer,
        NeedMore,
    }

    private Parse TryParse()
    {
        var at = start;
        if (end - at < 2)
        {
            return Parse.NeedMore;
        }

        var count = BinaryPrimitives.ReadInt16BigEndian(buffer.AsSpan(at));
        if (count == -1)
        {
            return Parse.Trailer;
        }

        if (count != offsets.Length)
        {
            throw new InvalidDataException($"A binary COPY row had {count} fields where {offsets.Length} were selected.");
        }

        at += 2;
        for (var i = 0; i < offsets.Length; i++)
        {
            if (end - at < 4)
            {
                return Parse.NeedMore;
            }

            var length = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(at));
            at += 4;
            offsets[i] = at;
            lengths[i] = length;
            if (length > 0)
            {
                if (end - at < length)
                {
                    return Parse.NeedMore;
                }

                at += length;
            }
        }

        rowEnd = at;
        return Parse.Row;
    }

    private async Task SkipHeaderAsync(CancellationToken cancellationToken)
    {
        while (end - start < Signature.Length + 8)
        {
            await NeedAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!buffer.AsSpan(start, Signature.Length).SequenceEqual(Signature))
        {
            throw new InvalidDataException("The stream is not a PostgreSQL binary COPY.");
        }

        var extension = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(start + Signature.Length + 4));
        while (end - start < Signature.Length + 8 + extension)
        {
            await NeedAsync(cancellationToken).ConfigureAwait(false);
        }

        start += Signature.Length + 8 + extension;
        rowEnd = start;
        headerRead = true;
    }

    private async Task NeedAsync(CancellationToken cancellationToken)
    {
        if (!await FillAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidDataException("The binary COPY stream ended inside its header.");
        }
    }

    /// <summary>Moves the unread bytes to the buffer's start and reads at least a chunk after them; false at the stream's end.</summary>
    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (streamEnded)
        {
            return false;
        }

        var pending = end - start;
        Buffer.BlockCopy(buffer, start, buffer, 0, pending);
        (start, rowEnd, end) = (0, 0, pending);
        if (buffer.Length - end < ChunkSize)
        {
            // A row longer than the buffer.
            Array.Resize(ref buffer, buffer.Length * 2);
        }

        var read = false;
        while (end < pending + ChunkSize)
        {
            var count = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
            if (count == 0)
            {
                streamEnded = true;
                break;
            }

            end += count;
            read = true;
        }

        return read;
    }

    public ValueTask DisposeAsync() => release(Ended);
}
