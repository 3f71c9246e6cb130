using System.Diagnostics;

namespace Molt.Testing;

internal static class Readiness
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Retries <paramref name="probe"/> (a real connection) until it succeeds. Throws <see cref="ServerStartException"/>
    /// with the log tail, the secret redacted, when the server exits or the timeout passes.
    /// </summary>
    public static async Task WaitAsync(string engine, ServerProcess server, string secret, Func<CancellationToken, Task> probe, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (server.HasExited)
            {
                var log = server.LogTail();
                throw new ServerStartException($"{engine} (pid {server.Id}) exited during start-up.", Text.Redact(log, secret),
                    log.Contains("Address already in use", StringComparison.Ordinal));
            }

            try
            {
                await probe(ct).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                if (clock.Elapsed > Timeout)
                {
                    throw new ServerStartException(
                        Text.Redact($"{engine} (pid {server.Id}) accepted no connection within {Timeout.TotalSeconds:F0} s; last error: {e.Message}", secret),
                        Text.Redact(server.LogTail(), secret), portInUse: false);
                }
            }

            await Task.Delay(50, ct).ConfigureAwait(false);
        }
    }
}
