using Molt.Testing;

namespace Molt.PowerShell.Tests;

/// <summary>One PostgreSQL and one MariaDB server, both configured for replication, shared by a test collection.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public PostgresServer Postgres { get; private set; } = null!;

    public MariaDbServer MariaDb { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var postgres = PostgresServer.StartAsync();
        var mariaDb = MariaDbServer.StartAsync();
        Postgres = await postgres;
        MariaDb = await mariaDb;
    }

    public async Task DisposeAsync()
    {
        await Postgres.DisposeAsync();
        await MariaDb.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "servers";
}
