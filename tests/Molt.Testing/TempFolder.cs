namespace Molt.Testing;

/// <summary>A /tmp/molt-&lt;random&gt; folder, deleted on dispose or at process exit. Short on purpose: unix socket paths are limited to 108 bytes.</summary>
internal sealed class TempFolder : IDisposable
{
    public const string Root = "/tmp";
    public const string Prefix = "molt-";

    /// <summary>Names the process that owns the folder, so a later run can delete it once that process is gone.</summary>
    public const string OwnerFile = "molt-owner.pid";

    private int disposed;

    private TempFolder(string path) => FullPath = path;

    public string FullPath { get; }

    public static TempFolder Create()
    {
        string path;
        do
        {
            path = Path.Combine(Root, Prefix + Text.RandomName());
        }
        while (Directory.Exists(path));

        Directory.CreateDirectory(path);
        var folder = new TempFolder(path);
        ServerRegistry.Track(folder);
        System.IO.File.WriteAllText(folder.File(OwnerFile), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return folder;
    }

    public string File(string name) => Path.Combine(FullPath, name);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            ServerRegistry.Untrack(this);
            Delete(FullPath);
        }
    }

    /// <summary>Never throws: a few retries cover files a just-stopped server is still closing.</summary>
    public static void Delete(string path)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                Directory.Delete(path, recursive: true);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Thread.Sleep(100);
            }
        }
    }
}
