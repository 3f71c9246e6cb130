using Molt.Engine.Checks;
using Molt.Engine.Endpoints.PgWire;
using static Molt.Engine.Endpoints.PgWire.PgWirePrerequisites;
using Npgsql;

namespace Molt.Engine.Endpoints.Postgres;

/// <summary>Checks what the chosen flow needs of a PostgreSQL server (the registry recognised it as one and named it in the address).</summary>
internal static class PostgresPrerequisites
{
    public static async Task<ConnectionReport> CheckAsync(EndpointAddress address, EndpointRole role, MigrationFlow flow,
        CancellationToken cancellationToken)
    {
        await using var connection = await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        var versionText = await PgWireConnections.VersionAsync(connection, cancellationToken).ConfigureAwait(false);
        var versionNumber = int.Parse(await ScalarAsync<string>(connection, "SHOW server_version_num", cancellationToken).ConfigureAwait(false),
            System.Globalization.CultureInfo.InvariantCulture);
        var version = await ScalarAsync<string>(connection, "SHOW server_version", cancellationToken).ConfigureAwait(false);
        var user = await ScalarAsync<string>(connection, "SELECT current_user", cancellationToken).ConfigureAwait(false);
        var server = new ServerInfo(address.Kind, version, versionText, connection.Database, user);

        var checks = new List<PrerequisiteCheck>
        {
            PrerequisiteCheck.Pass(role, address, "Connection", $"PostgreSQL {version} as '{user}' on database '{connection.Database}'"),
            PrerequisiteCheck.Of(role, address, "ServerVersion", versionNumber >= 110000,
                $"server_version_num = {versionNumber}", "Molt supports PostgreSQL 11 and newer; upgrade the server."),
        };

        // Replication reads the source's WAL; failback reads the target's (PostgreSQL stands in for CockroachDB here).
        var readsChanges = (role == EndpointRole.Source && flow == MigrationFlow.Replication)
                           || (role == EndpointRole.Target && flow == MigrationFlow.Failback);
        // Failback writes to the original source; every flow writes to the target.
        var isWritten = role == EndpointRole.Target || flow == MigrationFlow.Failback;

        if (role == EndpointRole.Source && flow != MigrationFlow.Failback)
        {
            checks.Add(await SnapshotExportAsync(connection, address, role, cancellationToken).ConfigureAwait(false));
        }

        if (readsChanges)
        {
            checks.AddRange(await LogicalDecodingChecksAsync(connection, address, role, cancellationToken).ConfigureAwait(false));
        }

        if (isWritten)
        {
            checks.Add(await WritableAsync(connection, address, role, cancellationToken).ConfigureAwait(false));
        }

        // Every flow keeps its state in the target's _molt; failback keeps its checkpoint in the original's as well.
        if (role == EndpointRole.Target || flow == MigrationFlow.Failback)
        {
            checks.Add(await StateSchemaAsync(connection, address, role, cancellationToken).ConfigureAwait(false));
        }

        return new ConnectionReport(server, checks);
    }

    private static async Task<PrerequisiteCheck> SnapshotExportAsync(NpgsqlConnection connection, EndpointAddress address,
        EndpointRole role, CancellationToken cancellationToken)
    {
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken)
                .ConfigureAwait(false);
            var snapshot = await ScalarAsync<string>(connection, "SELECT pg_export_snapshot()", cancellationToken).ConfigureAwait(false);
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return PrerequisiteCheck.Pass(role, address, "SnapshotExport", $"pg_export_snapshot() works (e.g. {snapshot})");
        }
        catch (PostgresException ex)
        {
            return PrerequisiteCheck.Fail(role, address, "SnapshotExport", $"pg_export_snapshot() failed: {ex.MessageText}",
                "Connect to the primary (not a standby) as a user allowed to run pg_export_snapshot().");
        }
    }

    private static async Task<IEnumerable<PrerequisiteCheck>> LogicalDecodingChecksAsync(NpgsqlConnection connection,
        EndpointAddress address, EndpointRole role, CancellationToken cancellationToken)
    {
        var walLevel = await ScalarAsync<string>(connection, "SHOW wal_level", cancellationToken).ConfigureAwait(false);
        var canReplicate = await ScalarAsync<bool>(connection,
            "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user", cancellationToken).ConfigureAwait(false);
        var freeSlots = await ScalarAsync<int>(connection,
            "SELECT current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots)::int", cancellationToken)
            .ConfigureAwait(false);
        var freeSenders = await ScalarAsync<int>(connection,
            "SELECT current_setting('max_wal_senders')::int - (SELECT count(*) FROM pg_stat_replication)::int", cancellationToken)
            .ConfigureAwait(false);
        var canPublish = await ScalarAsync<bool>(connection,
            "SELECT has_database_privilege(current_database(), 'CREATE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)",
            cancellationToken).ConfigureAwait(false);
        return
        [
            PrerequisiteCheck.Of(role, address, "WalLevel", walLevel == "logical", $"wal_level = {walLevel}",
                "Set wal_level = logical in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart the server."),
            PrerequisiteCheck.Of(role, address, "ReplicationPrivilege", canReplicate,
                canReplicate ? "the user has REPLICATION" : "the user lacks REPLICATION",
                "ALTER ROLE <user> WITH REPLICATION; (run as a superuser)."),
            PrerequisiteCheck.Of(role, address, "ReplicationSlots", freeSlots > 0, $"{freeSlots} free replication slot(s)",
                "Drop unused slots (SELECT pg_drop_replication_slot(name)) or raise max_replication_slots and restart."),
            PrerequisiteCheck.Of(role, address, "WalSenders", freeSenders > 0, $"{freeSenders} free WAL sender(s)",
                "Raise max_wal_senders and restart the server."),
            PrerequisiteCheck.Of(role, address, "PublicationPrivilege", canPublish,
                canPublish ? "the user can create a publication in this database" : "the user lacks CREATE on this database",
                "GRANT CREATE ON DATABASE <db> TO <user>; the user must also own the published tables."),
        ];
    }

    private static async Task<PrerequisiteCheck> WritableAsync(NpgsqlConnection connection, EndpointAddress address, EndpointRole role,
        CancellationToken cancellationToken)
    {
        var readOnly = await ScalarAsync<bool>(connection,
            "SELECT pg_is_in_recovery() OR current_setting('default_transaction_read_only')::bool", cancellationToken).ConfigureAwait(false);
        return PrerequisiteCheck.Of(role, address, "Writable", !readOnly,
            readOnly ? "the server is a standby or read-only by default" : "the server accepts writes",
            "Connect to the primary, or SET default_transaction_read_only = off for the user.");
    }
}
