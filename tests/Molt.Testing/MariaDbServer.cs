using System.Globalization;
using MySqlConnector;

namespace Molt.Testing;

/// <summary>A throwaway MariaDB 10.11 server on a free loopback port, stopped and deleted on dispose.</summary>
public sealed class MariaDbServer : IAsyncDisposable, IDisposable
{
    private const int StartAttempts = 3;
    private static readonly string[] AdminHosts = ["%", "localhost", "127.0.0.1"];

    private readonly TempFolder folder;
    private readonly Command command;
    private readonly string socketPath;
    private readonly SemaphoreSlim restart = new(1, 1);
    private ServerProcess process;

    private MariaDbServer(ServerProcess process, TempFolder folder, Command command, int port)
    {
        this.process = process;
        this.folder = folder;
        this.command = command;
        socketPath = folder.File("mysqld.sock");
        DataDirectory = folder.File("data");
        Port = port;
    }

    public string Host => "127.0.0.1";

    public int Port { get; }

    public int ProcessId => process.Id;

    public string DataDirectory { get; }

    /// <summary>Holds ALL PRIVILEGES ON *.* WITH GRANT OPTION from any host.</summary>
    public string AdminUser => "molt_admin";

    public string AdminPassword { get; } = Text.NewPassword();

    public static async Task<MariaDbServer> StartAsync(MariaDbServerOptions? options = null, CancellationToken ct = default)
    {
        options ??= new MariaDbServerOptions();
        var template = await MariaDbTemplate.GetAsync(ct).ConfigureAwait(false);
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

    public string ConnectionString(string database = "", string? user = null, string? password = null) =>
        Builder(database, user, password).ConnectionString;

    public string ConnectionUri(string database = "", string? user = null, string? password = null) =>
        $"mysql://{Uri.EscapeDataString(user ?? AdminUser)}:{Uri.EscapeDataString(password ?? AdminPassword)}@{Host}:{Port}" +
        (database.Length == 0 ? "" : "/" + Uri.EscapeDataString(database));

    public Task CreateDatabaseAsync(string name, CancellationToken ct = default) => ExecuteAsync("", $"CREATE DATABASE {Identifier(name)}", ct);

    public async Task ExecuteAsync(string database, string sql, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(database, ct).ConfigureAwait(false);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<T?> ScalarAsync<T>(string database, string sql, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(database, ct).ConfigureAwait(false);
        await using var command = new MySqlCommand(sql, connection);
        return Scalar.Convert<T>(await command.ExecuteScalarAsync(ct).ConfigureAwait(false));
    }

    /// <summary>Feeds a SQL file to the mariadb client as the admin over TCP; the client stops at the first error.</summary>
    public async Task RunClientFileAsync(string? database, string path, CancellationToken ct = default)
    {
        List<string> arguments =
        [
            "--no-defaults", "--default-character-set=utf8mb4", "--protocol=TCP", $"--host={Host}",
            $"--port={Port.ToString(CultureInfo.InvariantCulture)}", $"--user={AdminUser}",
        ];
        if (!string.IsNullOrEmpty(database))
        {
            arguments.Add($"--database={database}");
        }

        var environment = new Dictionary<string, string> { ["MYSQL_PWD"] = AdminPassword };
        (await new Command(MariaDbTemplate.Client, arguments).RunAsync(environment, path, ct).ConfigureAwait(false)).EnsureSuccess();
    }

    /// <summary>Creates name@'%' and grants each of <paramref name="grants"/>, written as "privileges ON object", e.g. "SELECT ON *.*".</summary>
    public Task CreateUserAsync(string name, string password, params string[] grants)
    {
        var account = $"{Literal(name)}@'%'";
        var sql = $"CREATE USER {account} IDENTIFIED BY {Literal(password)};" + string.Concat(grants.Select(g => $" GRANT {g} TO {account};"));
        return ExecuteAsync("", sql);
    }

    /// <summary>
    /// Stops the server by its pid (SIGTERM: a clean shutdown that closes the binary log) and starts it again with the
    /// same data directory, port, server id and settings; returns once it accepts connections again.
    /// </summary>
    public Task RestartAsync(CancellationToken ct = default) => RestartAsync(crash: false, ct);

    /// <summary>As <see cref="RestartAsync(CancellationToken)"/>; with <paramref name="crash"/> killed with SIGKILL instead, so InnoDB recovers on the way up as after a crash.</summary>
    public async Task RestartAsync(bool crash, CancellationToken ct = default)
    {
        await restart.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await process.StopKeepingFolderAsync(crash ? Native.SigKill : Native.SigTerm, ct).ConfigureAwait(false);
            process = ServerProcess.Start(folder, folder.File("error.log"), Native.SigKill, command);
            await Readiness.WaitAsync("MariaDB", process, AdminPassword, CreateAdminAsync, ct).ConfigureAwait(false);
        }
        finally
        {
            restart.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await process.DisposeAsync().ConfigureAwait(false);
        restart.Dispose();
    }

    public void Dispose()
    {
        process.Dispose();
        restart.Dispose();
    }

    public override string ToString() => $"MariaDB {Host}:{Port} (pid {ProcessId})";

    private static async Task<MariaDbServer> StartOnceAsync(string template, MariaDbServerOptions options, CancellationToken ct)
    {
        var folder = TempFolder.Create();
        ServerProcess? process = null;
        try
        {
            var data = folder.File("data");
            (await new Command("cp", ["-a", template, data]).RunAsync(ct: ct).ConfigureAwait(false)).EnsureSuccess();
            var port = FreePort.Pick();
            var log = folder.File("error.log");
            var command = new Command(MariaDbTemplate.Server, Arguments(data, folder, port, options));
            process = ServerProcess.Start(folder, log, Native.SigKill, command);
            var server = new MariaDbServer(process, folder, command, port);
            await Readiness.WaitAsync("MariaDB", process, server.AdminPassword, server.CreateAdminAsync, ct).ConfigureAwait(false);
            // Proves what tests rely on: TCP and password authentication.
            await server.ScalarAsync<int>("", "SELECT 1", ct).ConfigureAwait(false);
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

    private static List<string> Arguments(string data, TempFolder folder, int port, MariaDbServerOptions options)
    {
        // --no-defaults must come first; nothing from /etc/mysql applies.
        List<string> arguments =
        [
            "--no-defaults", .. MariaDbTemplate.RunAs,
            $"--datadir={data}",
            $"--port={port.ToString(CultureInfo.InvariantCulture)}",
            "--bind-address=127.0.0.1",
            $"--socket={folder.File("mysqld.sock")}",
            $"--pid-file={folder.File("mariadbd.pid")}",
            $"--log-error={folder.File("error.log")}",
            MariaDbTemplate.TempDirectory(folder),
            $"--server-id={Random.Shared.Next(1, int.MaxValue).ToString(CultureInfo.InvariantCulture)}",
            options.BinaryLog ? $"--log-bin={folder.File("binlog")}" : "--skip-log-bin",
            $"--binlog-format={options.BinlogFormat}",
            $"--binlog-row-image={options.BinlogRowImage}",
            $"--gtid-strict-mode={(options.GtidStrictMode ? 1 : 0)}",
            "--innodb-buffer-pool-size=256M",
            // Throwaway data: durability only costs time.
            "--innodb-flush-log-at-trx-commit=2",
            MariaDbTemplate.RedoLogSize,
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--max-connections=200",
        ];
        arguments.AddRange((options.ExtraSettings ?? new Dictionary<string, string>()).Select(s => $"--{s.Key}={s.Value}"));
        return arguments;
    }

    /// <summary>
    /// The readiness probe: the first real connection, as root over the unix socket, creates the admin. Kept out of the
    /// binary log, so tests reading it see only their own events.
    /// </summary>
    private async Task CreateAdminAsync(CancellationToken ct)
    {
        var builder = new MySqlConnectionStringBuilder
        {
            Server = socketPath, ConnectionProtocol = MySqlConnectionProtocol.UnixSocket, UserID = "root", Pooling = false, ConnectionTimeout = 5,
        };
        await using var connection = new MySqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        var sql = "SET SESSION sql_log_bin = 0;" + string.Concat(AdminHosts.Select(host =>
            $" CREATE OR REPLACE USER {Literal(AdminUser)}@{Literal(host)} IDENTIFIED BY {Literal(AdminPassword)};" +
            $" GRANT ALL PRIVILEGES ON *.* TO {Literal(AdminUser)}@{Literal(host)} WITH GRANT OPTION;"));
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private MySqlConnectionStringBuilder Builder(string database, string? user, string? password) => new()
    {
        Server = Host,
        Port = (uint)Port,
        Database = database,
        UserID = user ?? AdminUser,
        Password = password ?? AdminPassword,
        SslMode = MySqlSslMode.None,
        AllowPublicKeyRetrieval = true,
    };

    /// <summary>Unpooled, so no idle connection outlives a helper call; user variables allowed for ad-hoc SQL.</summary>
    private async Task<MySqlConnection> OpenAsync(string database, CancellationToken ct)
    {
        var builder = Builder(database, null, null);
        builder.Pooling = false;
        builder.AllowUserVariables = true;
        var connection = new MySqlConnection(builder.ConnectionString);
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

    private static string Identifier(string name) => "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";

    /// <summary>MariaDB treats backslash as an escape in string literals, so it is doubled too.</summary>
    private static string Literal(string value) =>
        "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";
}
