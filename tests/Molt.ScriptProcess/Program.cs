using System.Management.Automation;
using System.Management.Automation.Runspaces;

// Runs one PowerShell script with the Molt module imported, in a process of its own, so that a test can kill it
// (SIGKILL: no finally block, no Ctrl+C handler) the way a crashed machine or an OOM kill ends a load.
// Usage: Molt.ScriptProcess <module manifest> <script> [argument ...]; every progress record is written to stdout
// as "progress<TAB>activity<TAB>percent" as it happens, errors to stderr; the exit code is 1 when any error was written.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Molt.ScriptProcess <module manifest> <script> [argument ...]");
    return 2;
}

using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
runspace.Open();
using var shell = PowerShell.Create();
shell.Runspace = runspace;
shell.AddScript("Import-Module -Name $args[0] -ErrorAction Stop").AddArgument(args[0]);
shell.Invoke();
if (shell.HadErrors)
{
    Console.Error.WriteLine(string.Join(Environment.NewLine, shell.Streams.Error));
    return 1;
}

shell.Commands.Clear();
shell.AddScript(args[1]);
foreach (var argument in args.Skip(2))
{
    shell.AddArgument(argument);
}

shell.Streams.Progress.DataAdded += (_, e) =>
{
    var record = shell.Streams.Progress[e.Index];
    Console.Out.WriteLine($"progress\t{record.Activity}\t{record.PercentComplete}");
    Console.Out.Flush();
};
shell.Invoke();
foreach (var error in shell.Streams.Error)
{
    Console.Error.WriteLine(error);
}

return shell.HadErrors ? 1 : 0;
