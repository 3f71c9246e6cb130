using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Molt.Testing;

// Verify benchmark (issue 17): one table of N rows (bigint PK, int, text, numeric(12,2), timestamptz) held equal by a
// source and a PostgreSQL target; in one run, on the same machine: Compare-MoltData (a whole process, and the cmdlet
// alone in an open PowerShell), both tables read in full in parallel to nowhere (binary COPY; MariaDB's text protocol),
// the same in key order, and a server-side md5 of each table in key order (both servers at once).
//   dotnet run -c Release --project bench/verify -- --rows 5000000 [--source postgres|mariadb]
//       [--manifest out/Molt/Molt.psd1] [--before /other/checkout/out/Molt/Molt.psd1]
// --before: one more Compare-MoltData with that build of the module (e.g. main's, before a change), in the same run.
// Compare-MoltData runs in a child process (this program with --molt-child) so that its peak memory is its own.
if (args.Length > 0 && args[0] == "--molt-child")
{
    return MoltChild.Run(args[1], args[2], args[3], args[4]);
}

var rows = long.Parse(Option("--rows", "5000000"), CultureInfo.InvariantCulture);
var sourceKind = Option("--source", "postgres");
var manifest = Path.GetFullPath(Option("--manifest", FindManifest()));
var before = Option("--before", "");
var settings = new Dictionary<string, string>
{
    ["max_wal_size"] = "8GB", ["checkpoint_timeout"] = "30min", ["shared_buffers"] = "512MB", ["autovacuum"] = "off",
};
Console.WriteLine($"# {rows:N0} rows from {sourceKind}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}");
await using var target = await PostgresServer.StartAsync(new PostgresServerOptions { ExtraSettings = settings });
await target.CreateDatabaseAsync("bench");
var results = new List<(string Name, TimeSpan Time, TimeSpan? InSession, long PeakKb, string Load)>();
var environment = new Dictionary<string, string> { ["PGSSLMODE"] = "disable" };
// The test servers' passwords are letters and digits only, so they sit in a conninfo string without quoting.
var dst = $"host={target.Host} port={target.Port} user={target.AdminUser} password={target.AdminPassword} dbname=bench";
const string targetMd5 = "SELECT md5(string_agg(concat_ws('|', id, n, t, amount, at), E'\\n' ORDER BY id)) FROM bench";
if (sourceKind == "postgres")
{
    await using var source = await PostgresServer.StartAsync(new PostgresServerOptions { ExtraSettings = settings });
    await source.CreateDatabaseAsync("bench");
    // The same statement on both servers makes the same rows.
    var create = $"""
        CREATE TABLE bench (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL, amount numeric(12,2) NOT NULL, at timestamptz NOT NULL);
        INSERT INTO bench SELECT g, ((g::bigint * 7919) % 1000003)::int, md5(g::text) || ' ' || g, (g % 100000) / 100.0, '2024-01-01'::timestamptz + g * interval '1 second'
        FROM generate_series(1, {rows}) g;
        VACUUM ANALYZE bench;
        """;
    var src = $"host={source.Host} port={source.Port} user={source.AdminUser} password={source.AdminPassword} dbname=bench";
    // psql, which has no command timeout: at millions of rows the insert outlasts a driver's default.
    await Run(Both($"psql \"{src}\" -v ON_ERROR_STOP=1 -q <<'SQL'\n{create}\nSQL", $"psql \"{dst}\" -v ON_ERROR_STOP=1 -q <<'SQL'\n{create}\nSQL"));
    await Settle(source);
    results.Add(await Shell("parallel raw read, binary COPY to /dev/null",
        Both($"psql \"{src}\" -qc 'COPY bench TO STDOUT (FORMAT binary)' >/dev/null", $"psql \"{dst}\" -qc 'COPY bench TO STDOUT (FORMAT binary)' >/dev/null")));
    results.Add(await Shell("parallel raw read in key order, binary COPY to /dev/null",
        Both($"psql \"{src}\" -qc 'COPY (SELECT * FROM bench ORDER BY id) TO STDOUT (FORMAT binary)' >/dev/null",
            $"psql \"{dst}\" -qc 'COPY (SELECT * FROM bench ORDER BY id) TO STDOUT (FORMAT binary)' >/dev/null")));
    results.Add(await Shell("parallel server-side md5 in key order", Both($"psql \"{src}\" -qAtc \"{targetMd5}\" >/dev/null", $"psql \"{dst}\" -qAtc \"{targetMd5}\" >/dev/null")));
    await Compares(source.ConnectionUri("bench"), source);
}
else
{
    await using var source = await MariaDbServer.StartAsync();
    await source.CreateDatabaseAsync("bench");
    var mysql = $"mariadb -h {source.Host} -P {source.Port} -u {source.AdminUser} -p{source.AdminPassword} bench";
    await Run($"""
        {mysql} <<'SQL'
        CREATE TABLE bench.bench (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL, amount decimal(12,2) NOT NULL, at timestamp(6) NOT NULL);
        INSERT INTO bench.bench SELECT seq, (seq * 7919) % 1000003, concat(md5(seq), ' ', seq), (seq % 100000) / 100.0,
            TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_{rows};
        ANALYZE TABLE bench.bench;
        SQL
        """);
    // Molt's own load makes the target; the target's table lives in the public schema.
    await Molt(manifest, source.ConnectionUri("bench"), target.ConnectionUri("bench"), "Start-MoltBulkLoad -TableHandling DropAndRecreate -Confirm:$false");
    const string mysqlMd5 = "SET SESSION group_concat_max_len = 4294967295; SELECT md5(group_concat(concat_ws('|', id, n, t, amount, at) ORDER BY id SEPARATOR '\\n')) FROM bench";
    results.Add(await Shell("parallel raw read (MariaDB text protocol, PostgreSQL binary COPY) to /dev/null",
        Both($"{mysql} --quick -N -e 'SELECT * FROM bench' >/dev/null", $"psql \"{dst}\" -qc 'COPY bench TO STDOUT (FORMAT binary)' >/dev/null")));
    results.Add(await Shell("parallel raw read in key order to /dev/null",
        Both($"{mysql} --quick -N -e 'SELECT * FROM bench ORDER BY id' >/dev/null",
            $"psql \"{dst}\" -qc 'COPY (SELECT * FROM bench ORDER BY id) TO STDOUT (FORMAT binary)' >/dev/null")));
    results.Add(await Shell("parallel server-side md5 in key order", Both($"{mysql} -N -e \"{mysqlMd5}\" >/dev/null", $"psql \"{dst}\" -qAtc \"{targetMd5}\" >/dev/null")));
    await Compares(source.ConnectionUri("bench"), null);
}

Console.WriteLine();
Console.WriteLine("| measured | seconds | rows/s | in an open PowerShell: seconds | peak RSS | load average at start |");
Console.WriteLine("|---|---:|---:|---:|---:|---|");
foreach (var (name, time, inSession, peak, load) in results)
{
    Console.WriteLine($"| {name} | {time.TotalSeconds:F2} | {rows / time.TotalSeconds:N0} | {(inSession is { } t ? $"{t.TotalSeconds:F2}" : "-")} | {(peak > 0 ? $"{peak / 1024} MB" : "-")} | {load} |");
}

return 0;

async Task Compares(string source, PostgresServer? sourceServer)
{
    if (sourceServer is not null)
    {
        await Settle(sourceServer);
    }

    results.Add(await Molt(manifest, source, target.ConnectionUri("bench"), "Compare-MoltData"));
    if (before.Length > 0)
    {
        var (_, time, session, peak, load) = await Molt(Path.GetFullPath(before), source, target.ConnectionUri("bench"), "Compare-MoltData");
        results.Add(("Compare-MoltData, the --before build", time, session, peak, load));
    }
}

async Task Settle(PostgresServer other)
{
    await target.ExecuteAsync("postgres", "CHECKPOINT");
    await other.ExecuteAsync("postgres", "CHECKPOINT");
}

string Option(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

async Task Run(string command)
{
    var start = new ProcessStartInfo("bash", ["-c", "set -o pipefail; " + command]);
    foreach (var (key, value) in environment)
    {
        start.Environment[key] = value;
    }

    using var process = Process.Start(start)!;
    await process.WaitForExitAsync();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"set-up failed ({process.ExitCode})");
    }
}

async Task<(string, TimeSpan, TimeSpan?, long, string)> Shell(string name, string command)
{
    var load = LoadAverage();
    var start = new ProcessStartInfo("bash", ["-c", "set -o pipefail; " + command]);
    foreach (var (key, value) in environment)
    {
        start.Environment[key] = value;
    }

    var clock = Stopwatch.StartNew();
    using var process = Process.Start(start)!;
    await process.WaitForExitAsync();
    var elapsed = clock.Elapsed;
    Console.WriteLine($"{name}: {elapsed.TotalSeconds:F2} s (load {load})");
    return process.ExitCode == 0 ? (name, elapsed, null, 0, load) : throw new InvalidOperationException($"failed ({process.ExitCode}): {name}");
}

// Two commands at once; fails when either does.
// Each closes on a line of its own, so a command may end in a here-document.
static string Both(string first, string second) => $"({first}\n) & first=$!; ({second}\n) && wait $first";

static string LoadAverage() => string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

static async Task<(string, TimeSpan, TimeSpan?, long, string)> Molt(string manifest, string source, string target, string commandLine)
{
    var load = LoadAverage();
    var start = new ProcessStartInfo(Environment.ProcessPath!, ["--molt-child", manifest, source, target, commandLine]) { RedirectStandardOutput = true };
    var clock = Stopwatch.StartNew();
    using var process = Process.Start(start)!;
    var output = await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    var elapsed = clock.Elapsed;
    Console.Write(output);
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"Molt failed: {commandLine}");
    }

    var peak = long.Parse(output.Split('\n').Single(l => l.StartsWith("peak-kb ", StringComparison.Ordinal))[8..], CultureInfo.InvariantCulture);
    var invoke = long.Parse(output.Split('\n').Single(l => l.StartsWith("invoke-ms ", StringComparison.Ordinal))[10..], CultureInfo.InvariantCulture);
    Console.WriteLine($"{commandLine}: {elapsed.TotalSeconds:F2} s, in session {invoke / 1000.0:F2} s, peak {peak / 1024} MB (load {load})");
    return ($"Molt {commandLine.Trim()} (whole process)", elapsed, TimeSpan.FromMilliseconds(invoke), peak, load);
}

static string FindManifest()
{
    for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
    {
        var path = Path.Combine(folder.FullName, "out", "Molt", "Molt.psd1");
        if (File.Exists(path))
        {
            return path;
        }
    }

    throw new FileNotFoundException("out/Molt/Molt.psd1 not found: run ./build.ps1 -Task Build first.");
}

/// <summary>Molt in the real PowerShell engine, as a user runs it; fails unless every table compares Equal.</summary>
internal static class MoltChild
{
    public static int Run(string manifest, string source, string target, string commandLine)
    {
        using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        using var shell = PowerShell.Create();
        shell.Runspace = runspace;
        shell.AddScript($"Import-Module $args[0]; {commandLine} -Source $args[1] -Target $args[2]")
            .AddArgument(manifest).AddArgument(source).AddArgument(target);
        var clock = Stopwatch.StartNew();
        var output = shell.Invoke();
        Console.WriteLine($"invoke-ms {clock.ElapsedMilliseconds}");
        foreach (var error in shell.Streams.Error)
        {
            Console.Error.WriteLine(error);
        }

        var different = false;
        foreach (var item in output.Where(o => o.TypeNames[0] == "Molt.TableComparison"))
        {
            Console.WriteLine($"compare: {item.Properties["Table"].Value} {item.Properties["Status"].Value}, {item.Properties["SourceRows"].Value} rows in {item.Properties["Duration"].Value}");
            different |= item.Properties["Status"].Value?.ToString() != "Equal";
        }

        // VmHWM: the peak resident set of this process over its life.
        var peak = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        Console.WriteLine("peak-kb " + new string(peak.Where(char.IsDigit).ToArray()));
        return shell.HadErrors || different ? 1 : 0;
    }
}
