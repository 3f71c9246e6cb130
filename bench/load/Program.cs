using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Molt.Testing;

// Bulk-load benchmark (issues 3, 4, 5 and 17): one table of N rows (bigint PK, int, text, numeric(12,2), timestamptz) copied
// between two throwaway servers by Molt and by its peers, in the same run, on the same machine; then Compare-MoltData
// verifies Molt's copy against the source.
//   dotnet run -c Release --project bench/load -- --rows 5000000 [--source postgres|mariadb] [--only molt]
//       [--molt-args "-ShardsPerTable 2"] [--molt-variants "-DeferPrimaryKey:$false;-ShardsPerTable 2"] [--no-compare]
// Each variant is one more Molt load (into a database of its own) with those extra parameters, in the same run.
// --baseline PATH/out/Molt/Molt.psd1 also loads with another build of Molt (e.g. main's) in the same run, and --repeat N
// alternates the two builds' loads N times: a same-run before/after on a shared machine.
// Molt runs in a child process (this program with --molt-child) so that its peak memory is its own; it prints where its
// time went (engine start, Import-Module, then the load's own phases from its summary). Each row shows the 1-minute load
// average when the tool started: the machine is shared. Each row also gives CPU seconds, which a shared machine disturbs much
// less than wall time: the tool's own processes (user + system, from their rusage when reaped), and the source and target
// servers' processes over the tool's run (postmaster and backends, or mariadbd).
if (args.Length > 0 && args[0] == "--molt-child")
{
    return MoltChild.Run(args[1], args[2], args[3], args[4]);
}

var rows = long.Parse(Option("--rows", "5000000"), CultureInfo.InvariantCulture);
var sourceKind = Option("--source", "postgres");
var only = Option("--only", "all");
var moltArguments = ("-TableHandling DropAndRecreate " + Option("--molt-args", "")).Trim();
var compare = !args.Contains("--no-compare");
var baseline = Option("--baseline", "");
var repeat = int.Parse(Option("--repeat", "1"), CultureInfo.InvariantCulture);
var moltVariants = Option("--molt-variants", "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
// No autovacuum, and a CHECKPOINT before each tool: one tool's writes must not be flushed or vacuumed during the next one's run.
var settings = new Dictionary<string, string>
{
    ["max_wal_size"] = "8GB", ["checkpoint_timeout"] = "30min", ["shared_buffers"] = "512MB", ["autovacuum"] = "off",
};
Console.WriteLine($"# {rows:N0} rows from {sourceKind}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
await using var target = await PostgresServer.StartAsync(new PostgresServerOptions { ExtraSettings = settings });
// Time is the whole process; InSession, for Molt, is Import-Module plus the cmdlet in an already open PowerShell.
var results = new List<(string Name, TimeSpan Time, TimeSpan? InSession, long PeakKb, string Load, Cpu Cpu)>();
var sourcePid = 0;
if (sourceKind == "postgres")
{
    await using var source = await PostgresServer.StartAsync(new PostgresServerOptions { ExtraSettings = settings });
    sourcePid = source.ProcessId;
    await source.CreateDatabaseAsync("bench");
    await source.ExecuteAsync("bench",
        "CREATE TABLE bench (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL, amount numeric(12,2) NOT NULL, at timestamptz NOT NULL)");
    // In steps of 500,000 rows: each statement must end within the driver's command timeout on a loaded machine.
    for (var from = 1L; from <= rows; from += 500_000)
    {
        await source.ExecuteAsync("bench", $"""
            INSERT INTO bench SELECT g, ((g::bigint * 7919) % 1000003)::int, md5(g::text) || ' ' || g, (g % 100000) / 100.0, '2024-01-01'::timestamptz + g * interval '1 second'
            FROM generate_series({from}, {Math.Min(rows, from + 499_999)}) g;
            """);
    }

    // The test servers' passwords are letters and digits only, so they sit in a conninfo string without quoting.
    var environment = new Dictionary<string, string> { ["PGSSLMODE"] = "disable" };
    var src = $"host={source.Host} port={source.Port} user={source.AdminUser} password={source.AdminPassword} dbname=bench";
    // psql: no command timeout, which a VACUUM of millions of rows can outlast on a loaded machine.
    await Time($"psql \"{src}\" -qc 'VACUUM ANALYZE bench'", environment);
    string Dst(string db) => $"host={target.Host} port={target.Port} user={target.AdminUser} password={target.AdminPassword} dbname={db}";

    const string createTable = "CREATE TABLE bench (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL, amount numeric(12,2) NOT NULL, at timestamptz NOT NULL)";
    if (only is "all" or "raw")
    {
        await target.CreateDatabaseAsync("raw");
        await target.ExecuteAsync("raw", createTable);
        await Settle();
        await Peer("raw COPY binary pipe (psql | psql)", $"psql \"{src}\" -qc 'COPY bench TO STDOUT (FORMAT binary)' | psql \"{Dst("raw")}\" -qc 'COPY bench FROM STDIN (FORMAT binary)'", environment);
        await Check(target, "raw", rows);
    }

    if (only is "all" or "pgcopydb")
    {
        await target.CreateDatabaseAsync("pgcopydb");
        var work = Directory.CreateTempSubdirectory("molt-bench-pgcopydb-").FullName;
        await Settle();
        await Peer("pgcopydb clone --table-jobs 2 --index-jobs 2",
            $"pgcopydb clone --source \"{src}\" --target \"{Dst("pgcopydb")}\" --dir {work}/w --table-jobs 2 --index-jobs 2 --no-owner --no-acl --skip-extensions --notice >/dev/null 2>{work}/log || (tail -20 {work}/log; exit 1)", environment);
        await Check(target, "pgcopydb", rows);
        Directory.Delete(work, true);
    }

    if (only is "all" or "pg_dump")
    {
        await target.CreateDatabaseAsync("pgdump");
        var dump = Path.Combine(Path.GetTempPath(), $"molt-bench-dump-{Guid.NewGuid():N}");
        await Settle();
        await Peer("pg_dump -Fd -j2 + pg_restore -j2", $"pg_dump \"{src}\" -Fd -j2 -f {dump} && pg_restore -j2 --no-owner -d \"{Dst("pgdump")}\" {dump}", environment);
        await Check(target, "pgdump", rows);
        Directory.Delete(dump, true);
    }

    if (only is "all" or "molt")
    {
        await RunMolt(source.ConnectionUri("bench"));
    }
}
else
{
    await using var source = await MariaDbServer.StartAsync();
    sourcePid = source.ProcessId;
    await source.CreateDatabaseAsync("bench");
    await source.ExecuteAsync("bench",
        "CREATE TABLE bench.bench (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL, amount decimal(12,2) NOT NULL, at timestamp(6) NOT NULL)");
    for (var from = 1L; from <= rows; from += 500_000)
    {
        await source.ExecuteAsync("bench", $"""
            INSERT INTO bench.bench SELECT seq, (seq * 7919) % 1000003, concat(md5(seq), ' ', seq), (seq % 100000) / 100.0,
                TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_{from}_to_{Math.Min(rows, from + 499_999)};
            """);
    }

    await source.ExecuteAsync("bench", "ANALYZE TABLE bench.bench");
    if (only is "all" or "pgloader")
    {
        await target.CreateDatabaseAsync("pgloader");
        var mysql = $"mysql://{source.AdminUser}:{Uri.EscapeDataString(source.AdminPassword)}@{source.Host}:{source.Port}/bench";
        var pg = $"postgresql://{target.AdminUser}:{Uri.EscapeDataString(target.AdminPassword)}@{target.Host}:{target.Port}/pgloader";
        await Settle();
        await Peer("pgloader (defaults)", $"pgloader --quiet {mysql} {pg}", []);
        await Check(target, "pgloader", rows, "bench.bench");
    }

    if (only is "all" or "molt")
    {
        // The zero-date review's scan of the NOT NULL timestamp, by itself: as s5's one query, and as this branch's review
        // sends it on a two-core machine: the TIMESTAMP compared with the zero date, in two key ranges side by side (the
        // load's -ZeroDateHandling Sentinel skips the scan).
        var client = $"mariadb -h {source.Host} -P {source.Port} -u {source.AdminUser} -p{source.AdminPassword} bench -N";
        string Scan(string zero, string range) => $"{client} -e \"SELECT {zero} FROM bench WHERE {range}{zero} LIMIT 1\" >/dev/null";
        const string parts = "(YEAR(at) = 0 OR MONTH(at) = 0 OR DAYOFMONTH(at) = 0)";
        const string stored = "(at = '0000-00-00 00:00:00')";
        var middle = 1 + rows / 2;
        await Peer("zero-date scan, s5: one query, YEAR/MONTH/DAYOFMONTH", Scan(parts, ""), []);
        await Peer("zero-date scan: one query, compared with the zero date", Scan(stored, ""), []);
        await Peer("zero-date scan, this branch: two key ranges at once, compared with the zero date",
            $"{Scan(stored, $"id < {middle} AND ")} & first=$!; {Scan(stored, $"id >= {middle} AND ")} && wait $first", []);
        await RunMolt(source.ConnectionUri("bench"));
    }
}

Console.WriteLine();
Console.WriteLine("| tool | seconds | rows/s | in an open PowerShell: seconds, rows/s | tool CPU s | source server CPU s | target server CPU s | peak RSS | load average at start |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var (name, time, inSession, peak, load, cpu) in results)
{
    var session = inSession is { } t ? $"{t.TotalSeconds:F1}, {rows / t.TotalSeconds:N0}" : "-";
    Console.WriteLine($"| {name} | {time.TotalSeconds:F2} | {rows / time.TotalSeconds:N0} | {session} | {cpu.Tool:F2} | {cpu.Source:F2} | {cpu.Target:F2} | " +
                      $"{(peak > 0 ? $"{peak / 1024} MB" : "-")} | {load} |");
}

return 0;

async Task Settle() => await target.ExecuteAsync("postgres", "CHECKPOINT");

// Molt with the given arguments, then Compare-MoltData on what it loaded, then each variant.
async Task RunMolt(string source)
{
    for (var run = 1; run <= repeat; run++)
    {
        if (baseline != "")
        {
            await target.CreateDatabaseAsync($"moltbase{run}");
            await Settle();
            var (name, time, inSession, peak, load, cpu) = await Molt(baseline, source, target.ConnectionUri($"moltbase{run}"),
                $"Start-MoltBulkLoad {moltArguments} -Confirm:$false", sourcePid, target.ProcessId);
            results.Add(($"{name} (baseline build)", time, inSession, peak, load, cpu));
            await Check(target, $"moltbase{run}", rows);
        }

        var database = run == 1 ? "molt" : $"molt_{run}";
        await target.CreateDatabaseAsync(database);
        await Settle();
        results.Add(await Molt(Manifest(), source, target.ConnectionUri(database), $"Start-MoltBulkLoad {moltArguments} -Confirm:$false", sourcePid, target.ProcessId));
        await Check(target, database, rows);
    }

    if (compare)
    {
        await Settle();
        results.Add(await Molt(Manifest(), source, target.ConnectionUri("molt"), "Compare-MoltData", sourcePid, target.ProcessId));
    }

    for (var i = 0; i < moltVariants.Length; i++)
    {
        await target.CreateDatabaseAsync($"molt{i}");
        await Settle();
        results.Add(await Molt(Manifest(), source, target.ConnectionUri($"molt{i}"), $"Start-MoltBulkLoad {moltArguments} {moltVariants[i]} -Confirm:$false",
            sourcePid, target.ProcessId));
        await Check(target, $"molt{i}", rows);
    }
}

// A peer's whole process, timed, with the load average when it started.
async Task Peer(string name, string command, Dictionary<string, string> environment)
{
    var load = LoadAverage();
    var before = Cpu.Sample(sourcePid, target.ProcessId);
    var time = await Time(command, environment);
    results.Add((name, time, null, 0, load, Cpu.Sample(sourcePid, target.ProcessId) - before));
}

static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

string Option(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

static async Task<TimeSpan> Time(string command, Dictionary<string, string> environment)
{
    var start = new ProcessStartInfo("bash", ["-c", "set -o pipefail; " + command]) { RedirectStandardOutput = false };
    foreach (var (key, value) in environment)
    {
        start.Environment[key] = value;
    }

    var clock = Stopwatch.StartNew();
    using var process = Process.Start(start)!;
    await process.WaitForExitAsync();
    return process.ExitCode == 0 ? clock.Elapsed : throw new InvalidOperationException($"failed ({process.ExitCode}): {command}");
}

static async Task Check(PostgresServer server, string database, long expected, string table = "bench")
{
    var actual = await server.ScalarAsync<long>(database, $"SELECT count(*) FROM {table}");
    if (actual != expected)
    {
        throw new InvalidOperationException($"{database}: {actual} rows, expected {expected}");
    }
}

static async Task<(string, TimeSpan, TimeSpan?, long, string, Cpu)> Molt(string manifest, string source, string target, string commandLine, int sourcePid, int targetPid)
{
    var load = LoadAverage();
    var before = Cpu.Sample(sourcePid, targetPid);
    var self = Environment.ProcessPath!;
    var start = new ProcessStartInfo(self, ["--molt-child", manifest, source, target, commandLine]) { RedirectStandardOutput = true };
    var clock = Stopwatch.StartNew();
    using var process = Process.Start(start)!;
    var output = await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    var elapsed = clock.Elapsed;
    var cpu = Cpu.Sample(sourcePid, targetPid) - before;
    Console.Write(output);
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException("Molt failed");
    }

    var peak = long.Parse(output.Split('\n').Single(l => l.StartsWith("peak-kb ", StringComparison.Ordinal))[8..], CultureInfo.InvariantCulture);
    var invoke = long.Parse(output.Split('\n').Single(l => l.StartsWith("invoke-ms ", StringComparison.Ordinal))[10..], CultureInfo.InvariantCulture);
    Console.WriteLine($"cpu: Molt {cpu.Tool:F2} s, source server {cpu.Source:F2} s, target server {cpu.Target:F2} s");
    return ($"Molt {commandLine.Trim()}", elapsed, TimeSpan.FromMilliseconds(invoke), peak, load, cpu);
}

static string Manifest()
{
    for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
    {
        var path = Path.Combine(folder.FullName, "out", "Molt", "Molt.psd1");
        if (File.Exists(path))
        {
            return path;
        }
    }

    throw new FileNotFoundException("out/Molt/Molt.psd1 not found: build Molt.sln first.");
}

/// <summary>The Molt side of the benchmark: the module in the real PowerShell engine, as a user runs it.</summary>
internal static class MoltChild
{
    /// <param name="commandLine">The cmdlet and its extra parameters, e.g. "Start-MoltBulkLoad -TableHandling DropAndRecreate".</param>
    public static int Run(string manifest, string source, string target, string commandLine)
    {
        var start = Stopwatch.StartNew();
        using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        Console.WriteLine($"breakdown: process start to open PowerShell engine {(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds:F2} s (runspace {start.Elapsed.TotalSeconds:F2} s)");
        using var shell = PowerShell.Create();
        shell.Runspace = runspace;
        var clock = Stopwatch.StartNew();
        shell.AddScript("Import-Module $args[0]").AddArgument(manifest).Invoke();
        var imported = clock.Elapsed;
        shell.Commands.Clear();
        shell.AddScript($"{commandLine} -Source $args[0] -Target $args[1]").AddArgument(source).AddArgument(target);
        var output = shell.Invoke();
        Console.WriteLine($"invoke-ms {clock.ElapsedMilliseconds}");
        Console.WriteLine($"breakdown: Import-Module {imported.TotalSeconds:F2} s, cmdlet {(clock.Elapsed - imported).TotalSeconds:F2} s");
        foreach (var error in shell.Streams.Error)
        {
            Console.Error.WriteLine(error);
        }

        foreach (var item in output.Where(o => o.TypeNames[0] == "Molt.BulkLoadSummary"))
        {
            Console.WriteLine($"molt: {item.Properties["Status"].Value}, {item.Properties["Rows"].Value} rows in {item.Properties["Duration"].Value}");
            // The load's own phases (Start-MoltBulkLoad's summary): planning included, parallel work summed over its tasks.
            if (item.Properties["Phases"].Value is object[] phases)
            {
                Console.WriteLine("breakdown: " + string.Join(", ", phases.Select(p => p.ToString())));
            }
        }

        foreach (var item in output.Where(o => o.TypeNames[0] == "Molt.TableComparison"))
        {
            Console.WriteLine($"compare: {item.Properties["Table"].Value} {item.Properties["Status"].Value}, {item.Properties["SourceRows"].Value} rows in {item.Properties["Duration"].Value}");
            if (item.Properties["Status"].Value?.ToString() != "Equal")
            {
                return 1;
            }
        }

        // VmHWM: the peak resident set of this process over its life.
        var peak = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        Console.WriteLine("peak-kb " + new string(peak.Where(char.IsDigit).ToArray()));
        return shell.HadErrors ? 1 : 0;
    }
}

/// <summary>CPU seconds (user + system) so far: of this program's reaped children, and of two servers' process trees.</summary>
internal readonly record struct Cpu(double Tool, double Source, double Target)
{
    private const int Children = -1;

    /// <summary>Linux reports /proc times in clock ticks of 1/100 s (USER_HZ) on every architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    public static Cpu operator -(Cpu after, Cpu before) => new(after.Tool - before.Tool, after.Source - before.Source, after.Target - before.Target);

    /// <summary>
    /// Waits for the servers to reap what the tool's connections left (a backend's CPU reaches its postmaster's when it is
    /// reaped), then samples. The tool's processes count once waited for, with every child they waited for.
    /// </summary>
    public static Cpu Sample(int sourcePid, int targetPid)
    {
        Thread.Sleep(300);
        var usage = new long[18];
        if (GetRUsage(Children, usage) != 0)
        {
            throw new InvalidOperationException("getrusage failed");
        }

        // struct rusage begins with two struct timevals (seconds, microseconds): user, then system.
        var tool = usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6;
        return new Cpu(tool, Server(sourcePid), Server(targetPid));
    }

    /// <summary>A server's process and its reaped children (utime, stime, cutime, cstime), plus its live children.</summary>
    private static double Server(int pid)
    {
        var ticks = 0L;
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            var stat = Stat(Path.Combine(folder, "stat"));
            if (stat is null)
            {
                continue;
            }

            if (stat[0] == pid.ToString(CultureInfo.InvariantCulture))
            {
                ticks += long.Parse(stat[13], CultureInfo.InvariantCulture) + long.Parse(stat[14], CultureInfo.InvariantCulture)
                         + long.Parse(stat[15], CultureInfo.InvariantCulture) + long.Parse(stat[16], CultureInfo.InvariantCulture);
            }
            else if (stat[3] == pid.ToString(CultureInfo.InvariantCulture))
            {
                ticks += long.Parse(stat[13], CultureInfo.InvariantCulture) + long.Parse(stat[14], CultureInfo.InvariantCulture);
            }
        }

        return ticks / TicksPerSecond;
    }

    /// <summary>The fields of /proc/PID/stat, the command name (which may hold spaces) kept as one; null once the process is gone.</summary>
    private static string[]? Stat(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        var name = text.LastIndexOf(')');
        return name < 0 ? null : [text[..text.IndexOf(' ', StringComparison.Ordinal)], "comm", .. text[(name + 2)..].Split(' ')];
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRUsage(int who, [System.Runtime.InteropServices.Out] long[] usage);
}
