using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Molt.Demo;
using Molt.Testing;

// A real migration on a machine with no pwsh: throwaway MariaDB (Sakila) and PostgreSQL servers, the built Molt
// module imported into the real PowerShell engine, and the same commands a user would type.
var repository = FindRepository();
var manifest = Path.Combine(repository, "out", "Molt", "Molt.psd1");
if (!File.Exists(manifest))
{
    Console.Error.WriteLine($"{manifest} is missing: build first with 'dotnet build Molt.sln -c Release'.");
    return 1;
}

var clock = Stopwatch.StartNew();
Console.WriteLine("Starting throwaway MariaDB 10.11 (source) and PostgreSQL 15 (target) servers...");
await using var source = await MariaDbServer.StartAsync();
await using var target = await PostgresServer.StartAsync();
Console.WriteLine("Loading the Sakila sample into MariaDB...");
await SampleData.LoadSakilaAsync(source);
await target.CreateDatabaseAsync("sakila");
Console.WriteLine($"Servers ready in {clock.Elapsed.TotalSeconds:F1} s.{Environment.NewLine}");

var state = InitialSessionState.CreateDefault2();
using var runspace = RunspaceFactory.CreateRunspace(state);
runspace.Open();
Run(runspace, "Import-Module $args[0]", [manifest]);

var sourceUri = source.ConnectionUri("sakila");
var targetUri = target.ConnectionUri("sakila");
// Passwords travel as PSCredentials, as in a runbook, never inside the URIs shown on screen.
const string credentialScript = "$s = $args[2]; $t = $args[3]; ";
object[] arguments = [WithoutPassword(sourceUri), WithoutPassword(targetUri), Credential(source.AdminUser, source.AdminPassword),
    Credential(target.AdminUser, target.AdminPassword)];

Console.WriteLine("PS> Test-MoltConnection -Source $source -SourceCredential $s -Target $target -TargetCredential $t -For Replication");
var checks = Run(runspace, credentialScript + "Test-MoltConnection -Source $args[0] -SourceCredential $s -Target $args[1] -TargetCredential $t -For Replication", arguments);
Console.WriteLine(ObjectTable.Render(checks, "Role", "Server", "Check", "Passed", "Detail"));

// Sakila's address.location is a GEOMETRY; without PostGIS on the target it is loaded as its WKB bytes.
var typeMap = Path.Combine(Path.GetTempPath(), $"molt-demo-typemap-{Environment.ProcessId}.json");
File.WriteAllText(typeMap, """[{"table": "sakila.address", "column_type_map": [{"column": "location", "target_type": "bytea"}]}]""");
var succeeded = false;
try
{
    Console.WriteLine("PS> Start-MoltBulkLoad -Source $source -SourceCredential $s -Target $target -TargetCredential $t -TableHandling DropAndRecreate -TypeMapFile typemap.json");
    var results = Run(runspace, credentialScript + "Start-MoltBulkLoad -Source $args[0] -SourceCredential $s -Target $args[1] -TargetCredential $t -TableHandling DropAndRecreate -TypeMapFile $args[4] -Confirm:$false",
        [.. arguments, typeMap]);
    Console.WriteLine(ObjectTable.Render(results.Where(r => r.TypeNames[0] == "Molt.BulkLoadTableResult").ToList(), "Table", "Rows", "Shards", "RowsPerSecond", "Status"));
    var summary = results.Where(r => r.TypeNames[0] == "Molt.BulkLoadSummary").ToList();
    Console.WriteLine(ObjectTable.Render(summary, "Status", "Tables", "Rows", "SnapshotPosition", "GtidSet"));
    succeeded = summary.Count == 1 && (string)summary[0].Properties["Status"].Value == "succeeded";
}
finally
{
    File.Delete(typeMap);
}

Console.WriteLine($"Demo {(succeeded ? "finished" : "FAILED")} in {clock.Elapsed.TotalSeconds:F1} s; the throwaway servers are being stopped.");
return succeeded ? 0 : 1;

static List<PSObject> Run(Runspace runspace, string script, object[] arguments)
{
    using var shell = PowerShell.Create();
    shell.Runspace = runspace;
    shell.AddScript(script);
    foreach (var argument in arguments)
    {
        shell.AddArgument(argument);
    }

    var output = shell.Invoke().ToList();
    foreach (var error in shell.Streams.Error)
    {
        Console.Error.WriteLine($"ERROR [{error.FullyQualifiedErrorId}]: {error}");
    }

    foreach (var warning in shell.Streams.Warning)
    {
        Console.WriteLine($"WARNING: {warning.Message}");
    }

    return output;
}

static PSCredential Credential(string user, string password)
{
    var secure = new System.Security.SecureString();
    foreach (var c in password)
    {
        secure.AppendChar(c);
    }

    return new PSCredential(user, secure);
}

static string WithoutPassword(string uri)
{
    var builder = new UriBuilder(uri) { Password = string.Empty };
    return builder.Uri.ToString();
}

static string FindRepository()
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
