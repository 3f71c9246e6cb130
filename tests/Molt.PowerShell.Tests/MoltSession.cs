using System.Globalization;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Security;
using System.Text;

namespace Molt.PowerShell.Tests;

/// <summary>A real PowerShell runspace with the built Molt module imported, as a user would have it.</summary>
public sealed class MoltSession : IDisposable
{
    private readonly Runspace runspace;

    public MoltSession()
    {
        Host = new RecordingHost();
        var state = InitialSessionState.CreateDefault2();
        runspace = RunspaceFactory.CreateRunspace(Host, state);
        runspace.Open();
        var import = Invoke("Import-Module -Name $args[0] -ErrorAction Stop", ModuleManifest);
        if (import.Errors.Count > 0)
        {
            throw new InvalidOperationException("Import-Module failed: " + import.Errors[0]);
        }
    }

    public RecordingHost Host { get; }

    /// <summary>The session's runspace, for tests that drive a pipeline themselves (BeginInvoke, Stop).</summary>
    public Runspace Runspace => runspace;

    /// <summary>The module folder the build lays out (dotnet build Molt.sln).</summary>
    public static string ModuleManifest
    {
        get
        {
            var directory = Environment.GetEnvironmentVariable("MOLT_MODULE_DIR");
            var path = Path.Combine(string.IsNullOrEmpty(directory) ? Path.Combine(RepositoryRoot, "out", "Molt") : directory, "Molt.psd1");
            return File.Exists(path) ? path : throw new FileNotFoundException($"The module is not built: {path} is missing. Run 'dotnet build Molt.sln' first.");
        }
    }

    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Molt.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new DirectoryNotFoundException("Molt.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static PSCredential Credential(string user, string password)
    {
        var secure = new SecureString();
        foreach (var c in password)
        {
            secure.AppendChar(c);
        }

        return new PSCredential(user, secure);
    }

    /// <summary>Runs a script; positional arguments are available as $args.</summary>
    public PipelineResult Invoke(string script, params object?[] arguments)
    {
        using var shell = System.Management.Automation.PowerShell.Create();
        shell.Runspace = runspace;
        shell.AddScript(script);
        foreach (var argument in arguments)
        {
            shell.AddArgument(argument);
        }

        Collection<PSObject> output;
        Exception? terminating = null;
        try
        {
            output = shell.Invoke();
        }
        catch (RuntimeException ex)
        {
            output = [];
            terminating = ex;
        }

        return new PipelineResult(output, shell.Streams, terminating);
    }

    public void Dispose() => runspace.Dispose();
}

/// <summary>Everything one pipeline produced, stream by stream.</summary>
public sealed class PipelineResult(Collection<PSObject> output, PSDataStreams streams, Exception? terminating)
{
    public Collection<PSObject> Output { get; } = output;

    public IReadOnlyList<ErrorRecord> Errors { get; } = streams.Error.ToList();

    public IReadOnlyList<string> Verbose { get; } = streams.Verbose.Select(v => v.Message).ToList();

    public IReadOnlyList<string> Debug { get; } = streams.Debug.Select(d => d.Message).ToList();

    public IReadOnlyList<string> Warnings { get; } = streams.Warning.Select(w => w.Message).ToList();

    public IReadOnlyList<ProgressRecord> Progress { get; } = streams.Progress.ToList();

    /// <summary>A terminating error thrown out of the pipeline, if any.</summary>
    public Exception? Terminating { get; } = terminating;

    public IEnumerable<T> Objects<T>() => Output.Select(o => o.BaseObject).OfType<T>();

    /// <summary>All text of all streams, for asserting that something (a password) appears nowhere.</summary>
    public string AllText()
    {
        var text = new StringBuilder();
        foreach (var item in Output)
        {
            text.AppendLine(item?.ToString());
            foreach (var property in item?.Properties ?? Enumerable.Empty<PSPropertyInfo>())
            {
                text.AppendLine(SafeValue(property));
            }
        }

        foreach (var error in Errors)
        {
            text.AppendLine(error.ToString()).AppendLine(error.Exception.ToString()).AppendLine(error.ErrorDetails?.ToString())
                .AppendLine(Convert.ToString(error.TargetObject, CultureInfo.InvariantCulture));
        }

        text.AppendLine(Terminating?.ToString());
        foreach (var line in Verbose.Concat(Debug).Concat(Warnings))
        {
            text.AppendLine(line);
        }

        foreach (var progress in Progress)
        {
            text.AppendLine(progress.Activity).AppendLine(progress.StatusDescription).AppendLine(progress.CurrentOperation);
        }

        return text.ToString();
    }

    private static string? SafeValue(PSPropertyInfo property)
    {
        try
        {
            return Convert.ToString(property.Value, CultureInfo.InvariantCulture);
        }
        catch (GetValueException)
        {
            return null;
        }
    }
}
