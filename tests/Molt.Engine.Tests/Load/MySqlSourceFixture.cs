using Molt.Testing;

namespace Molt.Engine.Tests.Load;

/// <summary>A MariaDB server holding Sakila, and a PostgreSQL server to load into (a database per test).</summary>
public sealed class MySqlSourceFixture : IAsyncLifetime
{
    private int databases;

    public MariaDbServer Source { get; private set; } = null!;

    public PostgresServer Target { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var source = MariaDbServer.StartAsync();
        var target = PostgresServer.StartAsync();
        Source = await source;
        Target = await target;
        await SampleData.LoadSakilaAsync(Source);
    }

    public async Task<string> NewTargetAsync(string prefix)
    {
        var name = $"{prefix}_{Interlocked.Increment(ref databases)}";
        await Target.CreateDatabaseAsync(name);
        return name;
    }

    public async Task DisposeAsync()
    {
        await Source.DisposeAsync();
        await Target.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class MySqlSourceCollection : ICollectionFixture<MySqlSourceFixture>
{
    public const string Name = "mysql source";
}
