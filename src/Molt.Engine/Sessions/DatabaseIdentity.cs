using System.Globalization;
using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Endpoints.PgWire;
using MySqlConnector;
using Npgsql;

namespace Molt.Engine.Sessions;

/// <summary>
/// Whether a source and a target address reach the same database, asked of the servers rather than read from the
/// text: 127.0.0.1, localhost and the machine's name, postgres:// and postgresql://, a URI and a connection string,
/// or two users all reach one database, and writing or comparing a database into itself must be refused.
/// </summary>
public static class DatabaseIdentity
{
    private const string ProbePrefix = "molt-identity-";

    /// <summary>Throws <c>SourceIsTarget</c> when both addresses reach one database; different databases of one server are fine.</summary>
    public static async Task EnsureDistinctAsync(EndpointAddress source, EndpointAddress target, CancellationToken cancellationToken)
    {
        if (await AreSameAsync(source, target, cancellationToken).ConfigureAwait(false))
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "SourceIsTarget",
                $"The source {source.Display} and the target {target.Display} are the same database on the same server: "
                + "loading into it would write over the rows being read, and comparing it with itself finds it equal whatever it holds.",
                "Name the target database the rows should go to (another database on the same server is fine).")
            {
                Target = target.Label,
            };
        }
    }

    /// <summary>True when both addresses reach one database of one server. A MySQL-protocol and a pgwire endpoint never do.</summary>
    public static async Task<bool> AreSameAsync(EndpointAddress source, EndpointAddress target, CancellationToken cancellationToken)
    {
        if (source.Kind.IsMySqlFamily() != target.Kind.IsMySqlFamily())
        {
            return false;
        }

        return source.Kind.IsMySqlFamily()
            ? await SameMySqlDatabaseAsync(source, target, cancellationToken).ConfigureAwait(false)
            : await SamePgWireDatabaseAsync(source, target, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// PostgreSQL: the source session runs under a random application_name and the target looks for it in its own
    /// pg_stat_activity in its current database. Every role, however unprivileged, sees other sessions' datname and
    /// application_name there (only their queries and states are hidden), so this needs no grant.
    /// pg_control_system()'s system_identifier is no identity: a server made by copying another's data directory
    /// (pg_basebackup, a cloned VM, Molt's own test servers) has the same one.
    /// CockroachDB: one cluster id per cluster (a restored backup is a new cluster), plus the database name.
    /// </summary>
    private static async Task<bool> SamePgWireDatabaseAsync(EndpointAddress source, EndpointAddress target, CancellationToken cancellationToken)
    {
        var probe = ProbePrefix + Guid.NewGuid().ToString("N");
        await using var sourceConnection = await PgWireConnections.OpenAsync(source, probe, cancellationToken).ConfigureAwait(false);
        await using var targetConnection = await PgWireConnections.OpenAsync(target, "molt", cancellationToken).ConfigureAwait(false);
        var sourceIsCockroachDb = PgWireConnections.IsCockroachDb(await PgWireConnections.VersionAsync(sourceConnection, cancellationToken).ConfigureAwait(false));
        var targetIsCockroachDb = PgWireConnections.IsCockroachDb(await PgWireConnections.VersionAsync(targetConnection, cancellationToken).ConfigureAwait(false));
        if (sourceIsCockroachDb != targetIsCockroachDb)
        {
            return false;
        }

        if (sourceIsCockroachDb)
        {
            const string clusterDatabase = "SELECT crdb_internal.cluster_id()::STRING || '/' || current_database()";
            return await PgWireScalarAsync<string>(sourceConnection, clusterDatabase, null, cancellationToken).ConfigureAwait(false)
                   == await PgWireScalarAsync<string>(targetConnection, clusterDatabase, null, cancellationToken).ConfigureAwait(false);
        }

        return await PgWireScalarAsync<bool>(targetConnection,
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database())", probe,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// MySQL and MariaDB: the source session takes a named lock with GET_LOCK, which is server-wide and needs no
    /// privilege, and the target asks IS_USED_LOCK which connection holds it (server_uuid would do on MySQL, but
    /// MariaDB has none and server_id is 1 on most servers). The databases are then compared by name, case-blind
    /// where the server's lower_case_table_names makes database names so.
    /// </summary>
    private static async Task<bool> SameMySqlDatabaseAsync(EndpointAddress source, EndpointAddress target, CancellationToken cancellationToken)
    {
        var probe = ProbePrefix + Guid.NewGuid().ToString("N");
        await using var sourceConnection = await MySqlConnections.OpenAsync(source, cancellationToken).ConfigureAwait(false);
        await using var targetConnection = await MySqlConnections.OpenAsync(target, cancellationToken).ConfigureAwait(false);
        long sourceConnectionId;
        string? sourceDatabase;
        await using (var take = new MySqlCommand("SELECT GET_LOCK(@probe, 0), CONNECTION_ID(), DATABASE()", sourceConnection))
        {
            take.Parameters.AddWithValue("@probe", probe);
            await using var reader = await take.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            sourceConnectionId = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
            sourceDatabase = reader.IsDBNull(2) ? null : reader.GetString(2);
        }

        await using var look = new MySqlCommand("SELECT IS_USED_LOCK(@probe), DATABASE(), @@lower_case_table_names", targetConnection);
        look.Parameters.AddWithValue("@probe", probe);
        await using var found = await look.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await found.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (found.IsDBNull(0) || Convert.ToInt64(found.GetValue(0), CultureInfo.InvariantCulture) != sourceConnectionId)
        {
            return false;
        }

        var targetDatabase = found.IsDBNull(1) ? null : found.GetString(1);
        var comparison = Convert.ToInt32(found.GetValue(2), CultureInfo.InvariantCulture) == 0 ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        return string.Equals(sourceDatabase, targetDatabase, comparison);
    }

    private static async Task<T> PgWireScalarAsync<T>(NpgsqlConnection connection, string sql, string? parameter, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (parameter is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
