using System.Globalization;
using Npgsql;

namespace Molt.Testing;

/// <summary>A throwaway PostgreSQL 15 server on a free loopback port, stopped and deleted on dispose.</summary>
public sealed class PostgresServer : IAsyncDisposable, IDisposable
{
    private const int StartAttempts = 3;

    private readonly string socketDirectory;
    private readonly Command command;
    private ServerProcess process;

    private PostgresServer(ServerProcess process, Command command, string folder, int port)
    {
        this.process = process;
        this.command = command;
        socketDirectory = folder;
        DataDirectory = Path.Combine(folder, "data");
        Port = port;
    }

    public string Host => "127.0.0.1";

    public int Port { get; }

    /// <summary>The postmaster's pid; a new one after <see cref="RestartAsync"/>.</summary>
    public int ProcessId => process.Id;

    public string DataDirectory { get; }

    /// <summary>A superuser that logs in with <see cref="AdminPassword"/> (scram-sha-256) over TCP.</summary>
    public string AdminUser => PostgresTemplate.AdminUser;

    public string AdminPassword { get; } = Text.NewPassword();

    public static async Task<PostgresServer> StartAsync(PostgresServerOptions? options = null, CancellationToken ct = default)
    {
        options ??= new PostgresServerOptions();
        var template = await PostgresTemplate.GetAsync(ct).ConfigureAwait(false);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(template, options, ct).ConfigureAwait(false);
            }
            catch (ServerStartException e) when (e.PortInUse && attempt < StartAttempts)
            {
                // Another process took the port after we picked it: pick another.
            }
        }
    }

    public string ConnectionString(string database = "postgres", string? user = null, string? password = null) =>
        Builder(database, user, password).ConnectionString;

    public string ConnectionUri(string database = "postgres", string? user = null, string? password = null) =>
        $"postgres://{Uri.EscapeDataString(user ?? AdminUser)}:{Uri.EscapeDataString(password ?? AdminPassword)}@{Host}:{Port}/{Uri.EscapeDataString(database)}?sslmode=disable";

    public Task CreateDatabaseAsync(string name, CancellationToken ct = default) =>
        ExecuteAsync("postgres", $"CREATE DATABASE {Identifier(name)}", ct);

    public async Task ExecuteAsync(string database, string sql, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(database, ct).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<T?> ScalarAsync<T>(string database, string sql, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(database, ct).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        return Scalar.Convert<T>(await command.ExecuteScalarAsync(ct).ConfigureAwait(false));
    }

    /// <summary>Runs a SQL file with psql as the admin over TCP; errors inside the file do not stop it (ON_ERROR_STOP=0).</summary>
    public async Task RunPsqlFileAsync(string database, string path, CancellationToken ct = default)
    {
        var psql = new Command(PostgresTemplate.Psql,
            ["-X", "-w", "-q", "-v", "ON_ERROR_STOP=0", "-h", Host, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", AdminUser, "-d", database, "-f", path]);
        var environment = new Dictionary<string, string> { ["PGPASSWORD"] = AdminPassword, ["PGSSLMODE"] = "disable" };
        (await psql.RunAsync(environment, ct: ct).ConfigureAwait(false)).EnsureSuccess();
    }

    public Task CreateRoleAsync(string name, string password, bool replication = false, bool superuser = false, CancellationToken ct = default) =>
        ExecuteAsync("postgres",
            $"CREATE ROLE {Identifier(name)} LOGIN PASSWORD {Literal(password)}{(replication ? " REPLICATION" : "")}{(superuser ? " SUPERUSER" : "")}", ct);

    /// <summary>
    /// Stops the server as <c>pg_ctl stop -m fast</c> does (SIGINT to the postmaster: sessions are ended, a shutdown
    /// checkpoint is written), waits for it to exit, and starts it again on the same data directory, port and settings,
    /// returning once it accepts password logins over TCP. Clients see their connections end and must reconnect;
    /// replication slots and committed data survive. Not safe to call concurrently with itself or with dispose.
    /// </summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        var folder = process.Folder;
        var logPath = process.LogPath;
        await process.StopKeepingFolderAsync(Native.SigInt, ct).ConfigureAwait(false);
        process = ServerProcess.Start(folder, logPath, Native.SigQuit, command);
        // The admin password lives in the data directory now: the probe is a real TCP login.
        await Readiness.WaitAsync("PostgreSQL", process, AdminPassword, probe => ScalarAsync<int>("postgres", "SELECT 1", probe), ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await process.DisposeAsync().ConfigureAwait(false);
        // A restart that failed half-way leaves a spent process that no longer owns the folder.
        process.Folder.Dispose();
    }

    public void Dispose()
    {
        process.Dispose();
        process.Folder.Dispose();
    }

    public override string ToString() => $"PostgreSQL {Host}:{Port} (pid {ProcessId})";

    private static async Task<PostgresServer> StartOnceAsync(string template, PostgresServerOptions options, CancellationToken ct)
    {
        var folder = TempFolder.Create();
        ServerProcess? process = null;
        try
        {
            var data = folder.File("data");
            (await new Command("cp", ["-a", template, data]).RunAsync(ct: ct).ConfigureAwait(false)).EnsureSuccess();
            await PostgresTemplate.GiveToPostgresAsync(folder.FullPath, ct).ConfigureAwait(false);
            var port = FreePort.Pick();
            var postgres = new Command(Path.Combine(PostgresTemplate.BinDirectory, "postgres"), Arguments(data, folder.FullPath, port, options)).AsPostgresUser();
            process = ServerProcess.Start(folder, folder.File("postgres.log"), Native.SigQuit, postgres);
            var server = new PostgresServer(process, postgres, folder.FullPath, port);
            await Readiness.WaitAsync("PostgreSQL", process, server.AdminPassword, server.SetAdminPasswordAsync, ct).ConfigureAwait(false);
            // Proves what tests rely on: TCP and password authentication.
            await server.ScalarAsync<int>("postgres", "SELECT 1", ct).ConfigureAwait(false);
            return server;
        }
        catch
        {
            if (process is null)
            {
                folder.Dispose();
            }
            else
            {
                await process.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    private static List<string> Arguments(string data, string folder, int port, PostgresServerOptions options)
    {
        var settings = new Dictionary<string, string>
        {
            ["listen_addresses"] = "127.0.0.1",
            ["port"] = port.ToString(CultureInfo.InvariantCulture),
            ["unix_socket_directories"] = folder,
            ["wal_level"] = options.LogicalReplication ? "logical" : "replica",
            ["max_replication_slots"] = options.MaxReplicationSlots.ToString(CultureInfo.InvariantCulture),
            ["max_wal_senders"] = options.MaxWalSenders.ToString(CultureInfo.InvariantCulture),
            // Throwaway data: durability only costs time.
            ["fsync"] = "off",
            ["synchronous_commit"] = "off",
            ["full_page_writes"] = "off",
            ["shared_buffers"] = "128MB",
            ["max_connections"] = "100",
        };
        foreach (var (name, value) in options.ExtraSettings ?? new Dictionary<string, string>())
        {
            settings[name] = value;
        }

        List<string> arguments = ["-D", data];
        foreach (var (name, value) in settings)
        {
            arguments.AddRange(["-c", $"{name}={value}"]);
        }

        return arguments;
    }

    /// <summary>The readiness probe: the first real connection, over the trusted unix socket, gives the admin its password.</summary>
    private async Task SetAdminPasswordAsync(CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = socketDirectory, Port = Port, Database = "postgres", Username = AdminUser, Pooling = false, Timeout = 5,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"ALTER ROLE {Identifier(AdminUser)} PASSWORD {Literal(AdminPassword)}", connection);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private NpgsqlConnectionStringBuilder Builder(string database, string? user, string? password) => new()
    {
        Host = Host,
        Port = Port,
        Database = database,
        Username = user ?? AdminUser,
        Password = password ?? AdminPassword,
        SslMode = SslMode.Disable,
    };

    /// <summary>Unpooled, so no idle connection outlives a helper call (it would block DROP DATABASE in a test).</summary>
    private async Task<NpgsqlConnection> OpenAsync(string database, CancellationToken ct)
    {
        var builder = Builder(database, null, null);
        builder.Pooling = false;
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
