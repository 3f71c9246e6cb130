using Npgsql;

namespace Molt.Engine.Endpoints.Postgres;

/// <summary>What a PostgreSQL target database has installed that changes how a load is planned.</summary>
internal static class PostgresExtensions
{
    /// <summary>
    /// Whether the database has the postgis extension, so spatial columns can be geometry there. Molt never creates it:
    /// installing an extension needs privileges a load should not assume and changes the database for every user.
    /// </summary>
    public static async Task<bool> HasPostGisAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'postgis')");
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }
}
