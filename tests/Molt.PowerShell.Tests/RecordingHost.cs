using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text;

namespace Molt.PowerShell.Tests;

/// <summary>
/// A PowerShell host that records what cmdlets write to the UI: -WhatIf messages reach only the host, never a
/// stream, so tests that check them need a host of their own. It answers confirmation prompts from
/// <see cref="Answers"/>, recording each; with no answer left, a prompt fails the test.
/// </summary>
public sealed class RecordingHost : PSHost
{
    private readonly RecordingUserInterface ui = new();

    public string Text => ui.Text;

    /// <summary>The choices to pick, in order, by their hot key: "Y" Yes, "A" Yes to All, "N" No, "L" No to All.</summary>
    public Queue<string> Answers => ui.Answers;

    /// <summary>Every prompt answered: its caption and message.</summary>
    public IReadOnlyList<string> Prompts => ui.Prompts;

    public override string Name => "MoltTestHost";

    public override Version Version { get; } = new(1, 0);

    public override Guid InstanceId { get; } = Guid.NewGuid();

    public override PSHostUserInterface UI => ui;

    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;

    public override void EnterNestedPrompt() => throw new NotSupportedException();

    public override void ExitNestedPrompt() => throw new NotSupportedException();

    public override void NotifyBeginApplication()
    {
    }

    public override void NotifyEndApplication()
    {
    }

    public override void SetShouldExit(int exitCode)
    {
    }

    private sealed class RecordingUserInterface : PSHostUserInterface
    {
        private readonly StringBuilder text = new();

        public Queue<string> Answers { get; } = new();

        public List<string> Prompts { get; } = [];

        public string Text
        {
            get
            {
                lock (text)
                {
                    return text.ToString();
                }
            }
        }

        public override PSHostRawUserInterface? RawUI => null;

        public override string ReadLine() => string.Empty;

        public override SecureString ReadLineAsSecureString() => new();

        public override void Write(string value) => Append(value);

        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Append(value);

        public override void WriteLine(string value) => Append(value + Environment.NewLine);

        public override void WriteErrorLine(string value) => Append(value + Environment.NewLine);

        public override void WriteDebugLine(string message) => Append("DEBUG: " + message + Environment.NewLine);

        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
        }

        public override void WriteVerboseLine(string message) => Append("VERBOSE: " + message + Environment.NewLine);

        public override void WriteWarningLine(string message) => Append("WARNING: " + message + Environment.NewLine);

        public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) =>
            throw new NotSupportedException("Tests never prompt.");

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
            throw new NotSupportedException("Tests never prompt.");

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
            PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException("Tests never prompt.");

        public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice)
        {
            if (!Answers.TryDequeue(out var answer))
            {
                throw new NotSupportedException($"Unexpected prompt: {caption}: {message}");
            }

            Prompts.Add($"{caption}: {message}");
            var index = choices.ToList().FindIndex(c => c.Label.Contains("&" + answer, StringComparison.OrdinalIgnoreCase));
            return index >= 0 ? index : throw new InvalidOperationException($"No choice {answer} among {string.Join(", ", choices.Select(c => c.Label))}");
        }

        private void Append(string value)
        {
            lock (text)
            {
                text.Append(value);
            }
        }
    }
}
