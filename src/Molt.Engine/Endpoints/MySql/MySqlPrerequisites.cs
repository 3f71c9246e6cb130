using System.Globalization;
using Molt.Engine.Checks;
using MySqlConnector;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>Connects to a MySQL or MariaDB server, says which it is, and checks what the chosen flow needs of it.</summary>
internal static class MySqlPrerequisites
{
    public static async Task<ConnectionReport> CheckAsync(EndpointAddress address, EndpointRole role, MigrationFlow flow,
        CancellationToken cancellationToken)
    {
        await using var connection = await MySqlConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        var variables = await ReadVariablesAsync(connection, cancellationToken).ConfigureAwait(false);
        var versionText = variables.GetValueOrDefault("version", string.Empty);
        // The registry named the product from the server's own version (MySqlConnections.IsMariaDb).
        var kind = address.Kind;
        var isMariaDb = MySqlConnections.IsMariaDb(versionText);
        var version = ParseVersion(versionText);
        var user = await ScalarAsync(connection, "SELECT CURRENT_USER()", cancellationToken).ConfigureAwait(false);
        var server = new ServerInfo(kind, version.ToString(), versionText, connection.Database, user);

        var minimum = isMariaDb ? new Version(10, 2) : new Version(5, 7);
        var checks = new List<PrerequisiteCheck>
        {
            PrerequisiteCheck.Pass(role, address, "Connection",
                $"{kind.DisplayName()} {versionText} as '{user}'" + (connection.Database.Length > 0 ? $" on database '{connection.Database}'" : string.Empty)),
            PrerequisiteCheck.Of(role, address, "ServerVersion", version >= minimum, $"version {version}",
                $"Molt supports {kind.DisplayName()} {minimum} and newer; upgrade the server."),
        };

        var grants = MySqlGrants.Parse(await ReadGrantsAsync(connection, cancellationToken).ConfigureAwait(false));
        if (role == EndpointRole.Source && flow != MigrationFlow.Failback)
        {
            checks.Add(SnapshotCheck(address, role, isMariaDb, grants, variables));
        }

        if (role == EndpointRole.Source && flow == MigrationFlow.Replication)
        {
            checks.AddRange(MySqlBinlogPrerequisites.Check(address, role, isMariaDb, version, variables, grants));
        }

        if (role == EndpointRole.Target || flow == MigrationFlow.Failback)
        {
            var readOnly = variables.GetValueOrDefault("read_only", "OFF");
            checks.Add(PrerequisiteCheck.Of(role, address, "Writable", IsOff(readOnly), $"read_only = {readOnly}",
                "Connect to the primary, or SET GLOBAL read_only = OFF."));
        }

        return new ConnectionReport(server, checks);
    }

    /// <summary>
    /// One point in time for every table: MariaDB gives a lock-free consistent snapshot with its binlog position;
    /// MySQL needs a brief FLUSH TABLES WITH READ LOCK (RELOAD) or LOCK INSTANCE FOR BACKUP (BACKUP_ADMIN).
    /// </summary>
    private static PrerequisiteCheck SnapshotCheck(EndpointAddress address, EndpointRole role, bool isMariaDb, MySqlGrants grants,
        IReadOnlyDictionary<string, string> variables)
    {
        if (isMariaDb)
        {
            var logBin = variables.GetValueOrDefault("log_bin", "OFF");
            return PrerequisiteCheck.Pass(role, address, "ConsistentSnapshot",
                IsOn(logBin)
                    ? "MariaDB consistent snapshot with binlog position, no lock needed"
                    : "MariaDB consistent snapshot, no lock needed (log_bin is OFF, so no binlog position is recorded)");
        }

        var canLock = grants.Has("RELOAD") || grants.Has("BACKUP_ADMIN");
        return PrerequisiteCheck.Of(role, address, "ConsistentSnapshot", canLock,
            canLock ? "the user can take the brief global read lock a consistent snapshot needs" : "the user lacks RELOAD and BACKUP_ADMIN",
            "GRANT RELOAD ON *.* TO <user>; (or BACKUP_ADMIN on MySQL 8).");
    }

    public static Version ParseVersion(string versionText)
    {
        var digits = new string(versionText.TakeWhile(c => char.IsDigit(c) || c == '.').ToArray()).Trim('.');
        return Version.TryParse(!digits.Contains('.', StringComparison.Ordinal) ? digits + ".0" : digits, out var version) ? version : new Version(0, 0);
    }

    private static bool IsOn(string value) => value.Equals("ON", StringComparison.OrdinalIgnoreCase) || value == "1";

    private static bool IsOff(string value) => value.Equals("OFF", StringComparison.OrdinalIgnoreCase) || value == "0";

    private static async Task<IReadOnlyDictionary<string, string>> ReadVariablesAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var variables = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        await using var command = new MySqlCommand(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', " +
            "'gtid_mode', 'enforce_gtid_consistency', 'gtid_strict_mode', 'read_only', 'server_id', 'binlog_expire_logs_seconds', 'expire_logs_days')", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            variables[reader.GetString(0)] = reader.IsDBNull(1) ? string.Empty : reader.GetString(1);
        }

        return variables;
    }

    private static async Task<List<string>> ReadGrantsAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var rows = new List<string>();
        await using var command = new MySqlCommand("SHOW GRANTS", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static async Task<string> ScalarAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) ?? string.Empty;
    }
}
