namespace Molt.Testing;

internal sealed record ProcessResult(Command Command, int ExitCode, string StandardOutput, string StandardError)
{
    public ProcessResult EnsureSuccess()
    {
        return ExitCode == 0
            ? this
            : throw new InvalidOperationException(
                $"'{Command}' exited with code {ExitCode}:{Environment.NewLine}{Text.Tail(string.IsNullOrWhiteSpace(StandardError) ? StandardOutput : StandardError)}");
    }
}
