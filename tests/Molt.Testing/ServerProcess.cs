using System.Diagnostics;
using System.Globalization;

namespace Molt.Testing;

/// <summary>A running database server and the folder it lives in; disposing stops it by pid and deletes the folder.</summary>
internal sealed class ServerProcess : IDisposable, IAsyncDisposable
{
    /// <summary>"pid stop-signal", for <see cref="StaleFolders"/> to stop a server whose owner died.</summary>
    public const string PidFile = "molt-server.pid";

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly Process process;
    private readonly TempFolder folder;
    private readonly string logPath;
    private readonly int stopSignal;
    private int disposed;

    private ServerProcess(Process process, TempFolder folder, string logPath, int stopSignal)
    {
        this.process = process;
        this.folder = folder;
        this.logPath = logPath;
        this.stopSignal = stopSignal;
    }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    /// <summary>The folder the server lives in, kept by <see cref="StopKeepingFolderAsync"/> for a server started again in it.</summary>
    public TempFolder Folder => folder;

    public string LogPath => logPath;

    /// <summary>
    /// Starts <paramref name="command"/> with stdout and stderr appended to <paramref name="logPath"/>. The shell execs,
    /// so the process started here is the server itself and its pid is the server's pid.
    /// </summary>
    public static ServerProcess Start(TempFolder folder, string logPath, int stopSignal, Command command)
    {
        var info = new ProcessStartInfo("sh") { UseShellExecute = false };
        foreach (var argument in (string[])["-c", "exec \"$@\" </dev/null >>\"$0\" 2>&1", logPath, command.FileName, .. command.Arguments])
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {command.FileName}.");
        var server = new ServerProcess(process, folder, logPath, stopSignal);
        ServerRegistry.Track(server);
        File.WriteAllText(folder.File(PidFile), string.Create(CultureInfo.InvariantCulture, $"{process.Id} {stopSignal}"));
        return server;
    }

    public string LogTail()
    {
        try
        {
            using var reader = new StreamReader(new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
            return Text.Tail(reader.ReadToEnd());
        }
        catch (IOException e)
        {
            return $"(log {logPath} unreadable: {e.Message})";
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                Native.Signal(process.Id, stopSignal);
                if (!process.WaitForExit(StopGrace))
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(StopGrace);
                }
            }
        }
        catch (SystemException)
        {
            // Already gone or not ours to signal: the folder is still removed below.
        }

        Release();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                Native.Signal(process.Id, stopSignal);
                if (!await ExitedWithinAsync(StopGrace).ConfigureAwait(false))
                {
                    process.Kill(entireProcessTree: true);
                    await ExitedWithinAsync(StopGrace).ConfigureAwait(false);
                }
            }
        }
        catch (SystemException)
        {
            // Already gone or not ours to signal: the folder is still removed below.
        }

        Release();
    }

    /// <summary>
    /// Stops the server with <paramref name="signal"/> and waits for it to exit, leaving its folder (data, log) in place for
    /// a new <see cref="ServerProcess"/> to start in; this one is spent. Throws when it does not exit within the grace.
    /// </summary>
    public async Task StopKeepingFolderAsync(int signal, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Interlocked.Exchange(ref disposed, 1) != 0, this);
        Native.Signal(process.Id, signal);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(StopGrace);
        try
        {
            await process.WaitForExitAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The server (pid {process.Id}) did not exit within {StopGrace.TotalSeconds:F0} s of signal {signal}; it was killed.");
        }
        finally
        {
            ServerRegistry.Untrack(this);
        }

        process.Dispose();
    }

    private async Task<bool> ExitedWithinAsync(TimeSpan timeout)
    {
        using var timer = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(timer.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Release()
    {
        ServerRegistry.Untrack(this);
        folder.Dispose();
        process.Dispose();
    }
}
