namespace Molt.Testing;

/// <summary>
/// One bootstrap per process into a never-started template data directory; each server copies it, which is much
/// faster than installing per server.
/// </summary>
internal static class MariaDbTemplate
{
    public const string Server = "/usr/sbin/mariadbd";
    public const string Client = "/usr/bin/mariadb";

    /// <summary>
    /// The same redo log size at install and at every start, or each start would rebuild the log; small, because every
    /// server copies it.
    /// </summary>
    public const string RedoLogSize = "--innodb-log-file-size=32M";

    private const string ScriptFolder = "/usr/share/mysql";

    /// <summary>
    /// What mariadb-install-db feeds the server, less the help tables, the GIS procedures and the sys schema: tests
    /// need none of them.
    /// </summary>
    private static readonly string[] Scripts = ["mysql_system_tables.sql", "mysql_performance_tables.sql", "mysql_system_tables_data.sql"];

    private static readonly Once<string> Data = new(CreateAsync);

    /// <summary>mariadbd refuses to run as root unless told to.</summary>
    public static IEnumerable<string> RunAs => Environment.IsPrivilegedProcess ? ["--user=root"] : [];

    /// <summary>
    /// Temporary tables in the server's own folder: every mariadbd deletes the "#sql*" files in its tmpdir when it starts,
    /// so servers sharing /tmp destroy each other's temporary tables (seen in CI as a failed or crashed bootstrap).
    /// </summary>
    public static string TempDirectory(TempFolder folder)
    {
        var path = folder.File("tmp");
        Directory.CreateDirectory(path);
        return $"--tmpdir={path}";
    }

    /// <summary>The template's data directory.</summary>
    public static Task<string> GetAsync(CancellationToken ct) => Data.GetAsync(ct);

    private static async Task<string> CreateAsync()
    {
        var folder = TempFolder.Create();
        try
        {
            var data = folder.File("data");
            Directory.CreateDirectory(data);
            var script = folder.File("bootstrap.sql");
            await WriteBootstrapScriptAsync(script).ConfigureAwait(false);
            var bootstrap = new Command(Server,
            [
                "--no-defaults", "--bootstrap", $"--datadir={data}", "--log-warnings=0", "--enforce-storage-engine=",
                "--max-allowed-packet=8M", "--net-buffer-length=16K", RedoLogSize, TempDirectory(folder), .. RunAs,
            ]);
            (await bootstrap.RunAsync(standardInputPath: script).ConfigureAwait(false)).EnsureSuccess();
            return data;
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    private static async Task WriteBootstrapScriptAsync(string path)
    {
        await using var writer = new StreamWriter(path);
        // The same preamble mariadb-install-db writes for --auth-root-authentication-method=normal.
        await writer.WriteLineAsync("CREATE DATABASE IF NOT EXISTS mysql;").ConfigureAwait(false);
        await writer.WriteLineAsync("USE mysql;").ConfigureAwait(false);
        await writer.WriteLineAsync("SET @auth_root_socket=NULL;").ConfigureAwait(false);
        foreach (var name in Scripts)
        {
            await writer.WriteLineAsync(await File.ReadAllTextAsync(Path.Combine(ScriptFolder, name)).ConfigureAwait(false)).ConfigureAwait(false);
        }
    }
}
