namespace Molt.Testing;

/// <summary>
/// One mariadb-install-db per process into a never-started template data directory; each server copies it, which is
/// much faster than installing per server.
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

    private const string InstallDb = "/usr/bin/mariadb-install-db";

    private static readonly Once<string> Data = new(CreateAsync);

    /// <summary>mariadbd refuses to run as root unless told to.</summary>
    public static IEnumerable<string> RunAs => Environment.IsPrivilegedProcess ? ["--user=root"] : [];

    /// <summary>The template's data directory.</summary>
    public static Task<string> GetAsync(CancellationToken ct) => Data.GetAsync(ct);

    private static async Task<string> CreateAsync()
    {
        var folder = TempFolder.Create();
        try
        {
            var data = folder.File("data");
            var install = new Command(InstallDb,
                ["--no-defaults", $"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db", RedoLogSize, .. RunAs]);
            (await install.RunAsync().ConfigureAwait(false)).EnsureSuccess();
            return data;
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }
}
