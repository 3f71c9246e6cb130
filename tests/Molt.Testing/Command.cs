using System.Diagnostics;

namespace Molt.Testing;

/// <summary>An external program and its arguments, run to completion with its output captured.</summary>
internal sealed record Command(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>PostgreSQL refuses to run as root; setpriv execs, so the started process is the tool itself.</summary>
    public Command AsPostgresUser() => Environment.IsPrivilegedProcess
        ? new Command("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", FileName, .. Arguments])
        : this;

    public async Task<ProcessResult> RunAsync(IReadOnlyDictionary<string, string>? environment = null, string? standardInputPath = null,
        CancellationToken ct = default)
    {
        var info = new ProcessStartInfo(FileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {FileName}.");
        // Both pipes are drained while stdin is fed, or a chatty tool would block on a full pipe.
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await FeedAsync(process, standardInputPath, ct).ConfigureAwait(false);
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ProcessResult(this, process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    public override string ToString() => $"{Path.GetFileName(FileName)} {string.Join(' ', Arguments)}";

    private static async Task FeedAsync(Process process, string? path, CancellationToken ct)
    {
        try
        {
            if (path is not null)
            {
                await using var file = File.OpenRead(path);
                await file.CopyToAsync(process.StandardInput.BaseStream, ct).ConfigureAwait(false);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The tool stopped reading (it failed early): its exit code and stderr tell why.
        }
    }
}
