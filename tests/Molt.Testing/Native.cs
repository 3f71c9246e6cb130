using System.Runtime.InteropServices;

namespace Molt.Testing;

/// <summary>.NET can only send SIGKILL; PostgreSQL needs SIGQUIT to shut down and free its SysV shared memory.</summary>
internal static class Native
{
    /// <summary>PostgreSQL's fast shutdown (pg_ctl stop -m fast): sessions are ended, a shutdown checkpoint written.</summary>
    public const int SigInt = 2;
    public const int SigQuit = 3;
    public const int SigTerm = 15;
    public const int SigKill = 9;

    public static void Signal(int pid, int signal) => _ = kill(pid, signal);

    /// <summary>A zombie counts as dead: it has exited, only its parent has not reaped it yet.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault() is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
