using System.Globalization;
using Molt.Engine.Checks;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Replication;
using Npgsql;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>One row of <c>SHOW GRANTS ON TABLE *</c> (https://www.cockroachlabs.com/docs/stable/show-grants, "Privilege grants").</summary>
internal sealed record TableGrant(string Schema, string Table, string Grantee, string Privilege);

/// <summary>One row of <c>SHOW GRANTS ON ROLE FOR user</c>: a role the user is a member of (role_name, member, is_admin; same page).</summary>
internal sealed record RoleMembership(string Role, string Member, bool IsAdmin);

/// <summary>
/// What <c>Test-MoltConnection -For Failback</c> checks on a CockroachDB target beyond rangefeeds (CockroachPrerequisites
/// reads kv.rangefeed.enabled): that old row versions live long enough for failback to resume after a stop, and that the
/// user may read the tables with a changefeed. The SQL is run here; the evaluation is separate so it is tested on the
/// documented result shapes.
/// </summary>
internal static class ChangefeedPrerequisites
{
    /// <summary>How long failback is assumed to stay stopped at most (a restart, an outage of the original database).</summary>
    public static TimeSpan ExpectedDowntime { get; } = TimeSpan.FromHours(1);

    /// <summary>The database's effective zone configuration, with gc.ttlseconds (https://www.cockroachlabs.com/docs/stable/show-zone-configurations).</summary>
    public static string DatabaseZoneSql(string database) => $"SHOW ZONE CONFIGURATION FROM DATABASE {PgWireSyntax.Quote(database)}";

    /// <summary>Every grant on every table of the current database (https://www.cockroachlabs.com/docs/stable/show-grants: "SHOW GRANTS ON TABLE *").</summary>
    public const string TableGrantsSql = "SELECT schema_name, table_name, grantee, privilege_type FROM [SHOW GRANTS ON TABLE *]";

    /// <summary>The roles the user belongs to (https://www.cockroachlabs.com/docs/stable/show-grants: SHOW GRANTS ON ROLE [roles] [FOR users]).</summary>
    public static string RolesSql(string user) => $"SELECT role_name, member, is_admin FROM [SHOW GRANTS ON ROLE FOR {PgWireSyntax.Quote(user)}]";

    /// <summary>
    /// The GC TTL against the downtime failback must survive: the checkpoint moves every window (and every minute while
    /// idle), so failback can resume after a stop shorter than gc.ttlseconds (less the check's margin).
    /// </summary>
    public static PrerequisiteCheck EvaluateGcTtl(EndpointRole role, EndpointAddress address, string database, int ttlSeconds, TimeSpan expectedDowntime)
    {
        var window = TimeSpan.FromSeconds(ttlSeconds) - ChangefeedGcWindow.Margin;
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"gc.ttlseconds = {ttlSeconds} on database '{database}': failback can resume after a stop of up to {window.TotalMinutes:F0} min (expected downtime {expectedDowntime.TotalMinutes:F0} min)");
        return PrerequisiteCheck.Of(role, address, "FailbackGcWindow", window >= expectedDowntime, detail,
            string.Create(CultureInfo.InvariantCulture,
                $"ALTER DATABASE {PgWireSyntax.Quote(database)} CONFIGURE ZONE USING gc.ttlseconds = {(long)(expectedDowntime + ChangefeedGcWindow.Margin).TotalSeconds}; (or on each migrated table with ALTER TABLE)."));
    }

    /// <summary>
    /// Whether the user may run the sinkless changefeed on every table: admin, or SELECT ("Create a sinkless changefeed
    /// that emits messages to a SQL client"), CHANGEFEED or ALL on each table, granted to the user or a role of theirs
    /// (https://www.cockroachlabs.com/docs/stable/create-changefeed#required-privileges, privilege model). Molt's own
    /// <c>_molt</c> schema is not watched.
    /// </summary>
    public static PrerequisiteCheck EvaluatePrivileges(EndpointRole role, EndpointAddress address, string user, IReadOnlyList<RoleMembership> roles,
        IReadOnlyList<TableGrant> grants)
    {
        if (user == "root" || roles.Any(r => r.IsAdmin || r.Role == "admin"))
        {
            return PrerequisiteCheck.Pass(role, address, "ChangefeedPrivilege", $"'{user}' is an admin");
        }

        var holders = roles.Select(r => r.Role).Append(user).ToHashSet(StringComparer.Ordinal);
        var lacking = grants.Where(g => g.Schema != "_molt").GroupBy(g => (g.Schema, g.Table))
            .Where(table => !table.Any(g => holders.Contains(g.Grantee) && g.Privilege is "SELECT" or "CHANGEFEED" or "ALL"))
            .Select(table => $"{table.Key.Schema}.{table.Key.Table}").Order(StringComparer.Ordinal).ToList();
        return lacking.Count == 0
            ? PrerequisiteCheck.Pass(role, address, "ChangefeedPrivilege", $"'{user}' may read every table with a changefeed (SELECT, CHANGEFEED or ALL)")
            : PrerequisiteCheck.Fail(role, address, "ChangefeedPrivilege",
                $"'{user}' has neither SELECT nor CHANGEFEED on {string.Join(", ", lacking.Take(5))}{(lacking.Count > 5 ? $" and {lacking.Count - 5} more" : "")}",
                $"GRANT SELECT ON TABLE <tables> TO {PgWireSyntax.Quote(user)}; (a sinkless changefeed needs SELECT; CHANGEFEED is the privilege for changefeed jobs).");
    }

    /// <summary>
    /// Test-MoltConnection -For Failback -FetchId: whether failback can still start (or resume) at <paramref name="cursor"/>,
    /// the checkpoint failback last wrote or the HLC the cutover recorded, under the database's gc.ttlseconds now, as
    /// <see cref="ChangefeedGcWindow.Require"/> judges each table when failback starts.
    /// </summary>
    public static PrerequisiteCheck EvaluateCursor(EndpointRole role, EndpointAddress address, string database, CockroachHlc cursor, CockroachHlc now, int ttlSeconds)
    {
        var age = now.WallTime - cursor.WallTime;
        var left = TimeSpan.FromSeconds(ttlSeconds) - ChangefeedGcWindow.Margin - age;
        return left > TimeSpan.Zero
            ? PrerequisiteCheck.Pass(role, address, "FailbackCursor", string.Create(CultureInfo.InvariantCulture,
                $"failback starts at {cursor}, {age.TotalMinutes:F0} min ago; gc.ttlseconds = {ttlSeconds} on database '{database}' keeps its row versions for another {left.TotalMinutes:F0} min"))
            : PrerequisiteCheck.Fail(role, address, "FailbackCursor", string.Create(CultureInfo.InvariantCulture,
                    $"failback would start at {cursor}, {age.TotalMinutes:F0} min ago, but gc.ttlseconds = {ttlSeconds} on database '{database}' keeps row versions for {ttlSeconds / 60} min only"),
                "The changes since then may be gone: load the original database again from the target. Raise gc.ttlseconds above the longest time failback may wait (ALTER DATABASE ... CONFIGURE ZONE USING gc.ttlseconds = <seconds>).");
    }

    /// <summary>Connects to the target and checks <paramref name="start"/> (null: FailbackStart failed already, nothing to add) with <see cref="EvaluateCursor"/>.</summary>
    public static async Task<IReadOnlyList<PrerequisiteCheck>> CheckCursorAsync(EndpointAddress address, SourcePosition? start, IReadOnlyList<PrerequisiteCheck> checks,
        CancellationToken cancellationToken)
    {
        const EndpointRole role = EndpointRole.Target;
        if (start is null)
        {
            return checks;
        }

        if (start is not CockroachHlc cursor)
        {
            return [.. checks, PrerequisiteCheck.Fail(role, address, "FailbackCursor", $"the recorded position {start} is a {start.Notation}, not a CockroachDB HLC",
                "Start failback with -StartAt <HLC>, the cluster_logical_timestamp() after which the application's writes began.")];
        }

        try
        {
            await using var connection = await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
            var ttl = await DatabaseTtlSecondsAsync(connection, cancellationToken).ConfigureAwait(false);
            var now = CockroachHlc.Parse(await PgWirePrerequisites.ScalarAsync<string>(connection, ChangefeedGcWindow.NowSql, cancellationToken).ConfigureAwait(false));
            return [.. checks, EvaluateCursor(role, address, connection.Database, cursor, now, ttl)];
        }
        catch (Exception ex) when (ex is PostgresException or FormatException)
        {
            return [.. checks, PrerequisiteCheck.Fail(role, address, "FailbackCursor", $"could not read gc.ttlseconds or the cluster's time: {ex.Message}",
                "Run SHOW ZONE CONFIGURATION FROM DATABASE as a user that may, and check that gc.ttlseconds still reaches back to the cutover.")];
        }
    }

    /// <summary>The database's effective gc.ttlseconds.</summary>
    /// <exception cref="FormatException">The zone configuration holds none.</exception>
    private static async Task<int> DatabaseTtlSecondsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var zone = new NpgsqlCommand(DatabaseZoneSql(connection.Database), connection);
        await using var reader = await zone.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var raw = await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? reader.GetString(reader.GetOrdinal("raw_config_sql")) : "";
        return ChangefeedGcWindow.TtlSeconds(raw);
    }

    /// <summary>Runs the SQL of both checks on an open connection to the target.</summary>
    public static async Task<IReadOnlyList<PrerequisiteCheck>> CheckAsync(NpgsqlConnection connection, EndpointAddress address, EndpointRole role, string user,
        CancellationToken cancellationToken)
    {
        var checks = new List<PrerequisiteCheck>();
        try
        {
            checks.Add(EvaluateGcTtl(role, address, connection.Database, await DatabaseTtlSecondsAsync(connection, cancellationToken).ConfigureAwait(false),
                ExpectedDowntime));
        }
        catch (Exception ex) when (ex is PostgresException or FormatException)
        {
            checks.Add(PrerequisiteCheck.Fail(role, address, "FailbackGcWindow", $"could not read gc.ttlseconds: {ex.Message}",
                "Run SHOW ZONE CONFIGURATION FROM DATABASE as a user that may, and make gc.ttlseconds longer than failback may stay stopped."));
        }

        var roles = new List<RoleMembership>();
        string? rolesUnreadable = null;
        try
        {
            await using var command = new NpgsqlCommand(RolesSql(user), connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                roles.Add(new RoleMembership(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
            }
        }
        catch (PostgresException ex)
        {
            // SHOW GRANTS ON ROLE needs SELECT on a system table (show-grants.md, Required privileges): go on with direct grants.
            rolesUnreadable = ex.MessageText;
        }

        try
        {
            var grants = new List<TableGrant>();
            await using (var command = new NpgsqlCommand(TableGrantsSql, connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    grants.Add(new TableGrant(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
                }
            }

            var check = EvaluatePrivileges(role, address, user, roles, grants);
            checks.Add(check.Passed || rolesUnreadable is null ? check
                : check with { Detail = $"{check.Detail} (grants through roles not seen: {rolesUnreadable})" });
        }
        catch (PostgresException ex)
        {
            checks.Add(PrerequisiteCheck.Fail(role, address, "ChangefeedPrivilege", $"could not read the table grants: {ex.MessageText}",
                "Grant the user SELECT on the migrated tables (a sinkless changefeed needs SELECT)."));
        }

        return checks;
    }
}
