using Molt.Testing;

namespace Molt.Engine.Tests.Load;

/// <summary>A PostgreSQL server holding Pagila (database "pagila"); each test loads into a database of its own.</summary>
public sealed class PostgresSourceFixture : IAsyncLifetime
{
    private int databases;

    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await PostgresServer.StartAsync();
        await SampleData.LoadPagilaAsync(Server, "pagila");
    }

    public async Task<string> NewDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Interlocked.Increment(ref databases)}";
        await Server.CreateDatabaseAsync(name);
        return name;
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class PostgresSourceCollection : ICollectionFixture<PostgresSourceFixture>
{
    public const string Name = "postgres source";
}
