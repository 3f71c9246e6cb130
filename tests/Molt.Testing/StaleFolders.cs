using System.Globalization;

namespace Molt.Testing;

/// <summary>Cleans up after runs that died without running their exit handlers (SIGKILL, a hung test host killed).</summary>
internal static class StaleFolders
{
    public static void Sweep()
    {
        string[] folders;
        try
        {
            folders = Directory.GetDirectories(TempFolder.Root, TempFolder.Prefix + "*");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (var folder in folders)
        {
            try
            {
                var owner = ReadNumbers(Path.Combine(folder, TempFolder.OwnerFile));
                if (owner.Length != 1 || Native.IsAlive(owner[0]))
                {
                    continue;
                }

                if (ReadNumbers(Path.Combine(folder, ServerProcess.PidFile)) is [var pid, var signal] && IsServerIn(pid, folder))
                {
                    Stop(pid, signal);
                }

                TempFolder.Delete(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's folder, or one vanishing under us: not ours to clean.
            }
        }
    }

    /// <summary>Only a process whose command line names the folder is ours to stop: the pid may have been reused.</summary>
    private static bool IsServerIn(int pid, string folder) =>
        Native.IsAlive(pid) && File.ReadAllText($"/proc/{pid}/cmdline").Contains(folder + "/", StringComparison.Ordinal);

    /// <summary>The server's own stop signal first: SIGKILL would leave PostgreSQL's SysV shared memory behind.</summary>
    private static void Stop(int pid, int signal)
    {
        Native.Signal(pid, signal);
        for (var wait = 0; wait < 100 && Native.IsAlive(pid); wait++)
        {
            Thread.Sleep(50);
        }

        if (Native.IsAlive(pid))
        {
            Native.Signal(pid, Native.SigKill);
        }
    }

    private static int[] ReadNumbers(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            ? [.. parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture))]
            : [];
    }
}
