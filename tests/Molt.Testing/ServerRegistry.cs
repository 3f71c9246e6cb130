using System.Runtime.InteropServices;

namespace Molt.Testing;

/// <summary>
/// The one piece of process-wide state: everything started and not yet disposed, stopped at process exit so a crashed
/// or interrupted test run leaves no servers behind.
/// </summary>
internal static class ServerRegistry
{
    private static readonly List<IDisposable> Live = [];

    // Terminating signals do not reliably raise ProcessExit (SIGTERM did not, in a console host); the field keeps the
    // registrations alive. The handlers do not cancel the signal, so its usual effect follows.
    private static readonly PosixSignalRegistration[] Signals =
        [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT }.Select(s => PosixSignalRegistration.Create(s, _ => StopAll()))];

    static ServerRegistry()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
        StaleFolders.Sweep();
    }

    public static void Track(IDisposable item)
    {
        lock (Live)
        {
            Live.Add(item);
        }
    }

    public static void Untrack(IDisposable item)
    {
        lock (Live)
        {
            Live.Remove(item);
        }
    }

    private static void StopAll()
    {
        IDisposable[] items;
        lock (Live)
        {
            items = [.. Live];
        }

        // Newest first: a server stops before the folder it runs in is deleted.
        for (var i = items.Length - 1; i >= 0; i--)
        {
            items[i].Dispose();
        }
    }
}
