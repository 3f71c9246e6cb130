using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Endpoints.Postgres;
using Molt.Testing;
using Npgsql;

namespace Molt.Engine.Tests.Endpoints;

public sealed class PostgresSessionSettingsTests
{
    [Theory]
    [InlineData("off", "on")]
    [InlineData("local", "on")]
    [InlineData("remote_apply", "remote_apply")]
    public async Task A_target_database_that_commits_asynchronously_by_default_still_gets_durable_commits_from_molts_connections(string databaseDefault,
        string molts)
    {
        // Replication confirms the source's position once the target has committed: with synchronous_commit = off a target
        // crash could lose a commit the source no longer keeps.
        await using var server = await PostgresServer.StartAsync();
        await server.CreateDatabaseAsync("lazy");
        await server.ExecuteAsync("postgres", $"ALTER DATABASE lazy SET synchronous_commit = {databaseDefault}");
        Assert.Equal(databaseDefault, await server.ScalarAsync<string>("lazy", "SHOW synchronous_commit"));

        await using var dataSource = PgWireConnections.CreateDataSource(EndpointAddress.Parse(server.ConnectionUri("lazy")),
            sessionSettings: PostgresSessionSettings.Load);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var show = new NpgsqlCommand("SHOW synchronous_commit", connection);
        Assert.Equal(molts, await show.ExecuteScalarAsync());
    }
}
