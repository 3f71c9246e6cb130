using Molt.Engine.Replication;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>
/// The buffered rows of open windows, read back in any order by the handle <see cref="Add"/> gave. Held in memory up to a
/// byte bound (sized as <see cref="BatchLog.Size"/> sizes changes); beyond it every further row goes to a temporary file
/// written with the batch log's <see cref="ChangeSerializer"/>, so a long window does not grow memory. The file is deleted
/// on dispose.
/// </summary>
internal sealed class ChangefeedRowStore(long memoryBytes, string? spillDirectory = null) : IDisposable
{
    private readonly List<RowChange> memory = [];
    private readonly ChangeSerializer serializer = new();
    private long memorySize;
    private FileStream? file;
    private BinaryWriter? writer;
    private BinaryReader? reader;

    /// <summary>The spill file while there is one, for tests and messages.</summary>
    public string? SpillPath => file?.Name;

    /// <summary>Keeps a row; returns its handle (a memory index, or the complement of its file offset).</summary>
    public long Add(RowChange change)
    {
        var size = BatchLog.Size(change);
        if (file is null && memorySize + size <= memoryBytes)
        {
            memory.Add(change);
            memorySize += size;
            return memory.Count - 1;
        }

        if (file is null)
        {
            var path = Path.Combine(spillDirectory ?? Path.GetTempPath(), $"molt-changefeed-{Guid.NewGuid():N}.spill");
            file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            writer = new BinaryWriter(file, System.Text.Encoding.UTF8, leaveOpen: true);
            reader = new BinaryReader(file, System.Text.Encoding.UTF8, leaveOpen: true);
        }

        writer!.Flush();
        var offset = file.Seek(0, SeekOrigin.End);
        serializer.Write(writer, change);
        return ~offset;
    }

    public RowChange Get(long handle)
    {
        if (handle >= 0)
        {
            return memory[(int)handle];
        }

        writer!.Flush();
        file!.Seek(~handle, SeekOrigin.Begin);
        return (RowChange)serializer.Read(reader!);
    }

    public void Dispose()
    {
        reader?.Dispose();
        writer?.Dispose();
        file?.Dispose();
        (reader, writer, file) = (null, null, null);
    }
}
