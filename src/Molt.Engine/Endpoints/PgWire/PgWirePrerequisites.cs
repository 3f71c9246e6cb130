using Molt.Engine.Checks;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>Prerequisite checks PostgreSQL and CockroachDB share.</summary>
internal static class PgWirePrerequisites
{
    /// <summary>Molt keeps its run status, exceptions and checkpoints in the target's <c>_molt</c> schema.</summary>
    public static async Task<PrerequisiteCheck> StateSchemaAsync(NpgsqlConnection connection, EndpointAddress address, EndpointRole role,
        CancellationToken cancellationToken)
    {
        var exists = await ScalarAsync<bool>(connection, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '_molt')",
            cancellationToken).ConfigureAwait(false);
        var allowed = exists
            ? await ScalarAsync<bool>(connection, "SELECT has_schema_privilege('_molt', 'CREATE') AND has_schema_privilege('_molt', 'USAGE')",
                cancellationToken).ConfigureAwait(false)
            : await ScalarAsync<bool>(connection, "SELECT has_database_privilege(current_database(), 'CREATE')", cancellationToken)
                .ConfigureAwait(false);
        var detail = (exists, allowed) switch
        {
            (true, true) => "schema _molt exists and is usable",
            (true, false) => "schema _molt exists but the user cannot create objects in it",
            (false, true) => "the user can create schema _molt",
            _ => "the user cannot create schema _molt",
        };
        return PrerequisiteCheck.Of(role, address, "StateSchema", allowed, detail,
            exists ? "GRANT USAGE, CREATE ON SCHEMA _molt TO <user>;" : "GRANT CREATE ON DATABASE <db> TO <user>; or create schema _molt for the user.");
    }

    public static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return (T)Convert.ChangeType(value!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }
}
