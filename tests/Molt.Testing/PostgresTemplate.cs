namespace Molt.Testing;

/// <summary>
/// One initdb per process into a never-started template cluster; each server copies it, which is much faster than
/// running initdb per server.
/// </summary>
internal static class PostgresTemplate
{
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";
    public const string Psql = "/usr/bin/psql";
    public const string AdminUser = "molt_admin";

    private const string Hba = """
        local all all trust
        local replication all trust
        host all all 127.0.0.1/32 scram-sha-256
        host replication all 127.0.0.1/32 scram-sha-256

        """;

    private static readonly Once<string> Data = new(CreateAsync);

    /// <summary>The template's data directory.</summary>
    public static Task<string> GetAsync(CancellationToken ct) => Data.GetAsync(ct);

    /// <summary>When root, the servers run as the postgres user, which must own the folder to create its socket and files.</summary>
    public static async Task GiveToPostgresAsync(string path, CancellationToken ct)
    {
        if (Environment.IsPrivilegedProcess)
        {
            (await new Command("chown", ["postgres:postgres", path]).RunAsync(ct: ct).ConfigureAwait(false)).EnsureSuccess();
        }
    }

    private static async Task<string> CreateAsync()
    {
        var folder = TempFolder.Create();
        try
        {
            await GiveToPostgresAsync(folder.FullPath, CancellationToken.None).ConfigureAwait(false);
            var data = folder.File("data");
            // No --pwfile: the template is shared, so each server sets its own admin password over the trusted unix socket.
            var initdb = new Command(Path.Combine(BinDirectory, "initdb"),
                ["-D", data, $"--username={AdminUser}", "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8",
                    "--locale=C.UTF-8", "--no-sync", "--no-instructions"]);
            (await initdb.AsPostgresUser().RunAsync().ConfigureAwait(false)).EnsureSuccess();
            // Overwriting keeps the file's owner (postgres) when running as root.
            await File.WriteAllTextAsync(Path.Combine(data, "pg_hba.conf"), Hba).ConfigureAwait(false);
            return data;
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }
}
