namespace Molt.Engine.Replication;

/// <summary>
/// The changes of the open target transaction, kept so that the transaction can be applied again after the target aborted
/// it (40001, a lost connection), or applied again without its last source transaction (a drain that must stop before
/// it). Held in memory up to a byte bound; beyond it (one source transaction larger than a batch) every change goes to a
/// temporary file instead, so memory does not grow with a transaction's size. The file is deleted when the batch ends.
/// </summary>
internal sealed class BatchLog(long memoryBytes, string? spillDirectory = null) : IDisposable
{
    private readonly List<Change> memory = [];
    private long memorySize;
    private FileStream? file;
    private BinaryWriter? writer;
    private ChangeSerializer? serializer;
    private long count;

    /// <summary>Where the log stands, to cut it back to with <see cref="TruncateTo"/>.</summary>
    public readonly record struct Mark(long Count, long FileLength);

    public long Count => count;

    /// <summary>The spill file's path while the log spills, for tests and messages.</summary>
    public string? SpillPath => file?.Name;

    public Mark Position => new(count, file is null ? 0 : Flushed().Length);

    public void Add(Change change, long size)
    {
        count++;
        if (writer is null && memorySize + size <= memoryBytes)
        {
            memory.Add(change);
            memorySize += size;
            return;
        }

        if (writer is null)
        {
            StartSpilling();
        }

        serializer!.Write(writer!, change);
    }

    /// <summary>Every change, in order: the ones in memory first, then the spilled ones read back from the file.</summary>
    public async IAsyncEnumerable<Change> ReplayAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (file is null)
        {
            foreach (var change in memory.ToList())
            {
                yield return change;
            }

            yield break;
        }

        // The file holds everything once spilling started (the memory part was moved into it).
        var length = Flushed().Length;
        using var reader = new BinaryReader(new FileStream(file.Name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16),
            System.Text.Encoding.UTF8, leaveOpen: false);
        var read = reader.BaseStream;
        while (read.Position < length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return serializer!.Read(reader);
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>Drops every change after <paramref name="mark"/>.</summary>
    public void TruncateTo(Mark mark)
    {
        if (file is null)
        {
            memory.RemoveRange((int)mark.Count, memory.Count - (int)mark.Count);
            memorySize = memory.Sum(c => Size(c));
        }
        else
        {
            Flushed().SetLength(mark.FileLength);
            file.Position = mark.FileLength;
        }

        count = mark.Count;
    }

    /// <summary>Empties the log (the batch committed) and deletes its file.</summary>
    public void Clear()
    {
        memory.Clear();
        memorySize = 0;
        count = 0;
        CloseFile();
    }

    public void Dispose() => CloseFile();

    /// <summary>A change's rough size in memory: its values' text.</summary>
    public static long Size(Change change) => change switch
    {
        RowChange row => 64 + Values(row.Key) + Values(row.OldKey) + Values(row.New?.Values) + Values(row.Old?.Values),
        TruncateChange truncate => 64 + truncate.Tables.Count * 32,
        _ => 32,
    };

    private static long Values(IReadOnlyList<object?>? values)
    {
        if (values is null)
        {
            return 0;
        }

        long size = 0;
        foreach (var value in values)
        {
            size += value switch
            {
                null => 8,
                string s => 24 + 2L * s.Length,
                byte[] b => 24 + b.Length,
                _ => 24,
            };
        }

        return size;
    }

    private void StartSpilling()
    {
        var path = Path.Combine(spillDirectory ?? Path.GetTempPath(), $"molt-batch-{Guid.NewGuid():N}.spill");
        file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.DeleteOnClose);
        writer = new BinaryWriter(file, System.Text.Encoding.UTF8, leaveOpen: true);
        serializer = new ChangeSerializer();
        foreach (var change in memory)
        {
            serializer.Write(writer, change);
        }

        memory.Clear();
        memorySize = 0;
    }

    private FileStream Flushed()
    {
        writer!.Flush();
        return file!;
    }

    private void CloseFile()
    {
        writer?.Dispose();
        file?.Dispose();
        (writer, file, serializer) = (null, null, null);
    }
}
