using System.Net;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.Verify;
using Molt.Testing;

namespace Molt.Engine.Tests.Endpoints;

/// <summary>A PostgreSQL and a MariaDB server, each with databases "shop" and "other" and a least-privileged login.</summary>
public sealed class IdentityFixture : IAsyncLifetime
{
    public const string Reader = "shop_reader";
    public const string ReaderPassword = "Reader-pw-1";

    public PostgresServer Postgres { get; private set; } = null!;

    public MariaDbServer MariaDb { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var postgres = PostgresServer.StartAsync();
        var mariaDb = MariaDbServer.StartAsync();
        Postgres = await postgres;
        MariaDb = await mariaDb;
        foreach (var database in new[] { "shop", "other" })
        {
            await Postgres.CreateDatabaseAsync(database);
            await Postgres.ExecuteAsync(database, "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'a'), (2, 'b')");
            await MariaDb.CreateDatabaseAsync(database);
            await MariaDb.ExecuteAsync(database, "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'a'), (2, 'b')");
        }

        // No superuser, no pg_read_all_stats, no PROCESS: what a DBA hands a migration tool at least.
        await Postgres.CreateRoleAsync(Reader, ReaderPassword);
        await MariaDb.CreateUserAsync(Reader, ReaderPassword, "SELECT ON shop.*");
    }

    public async Task DisposeAsync()
    {
        await Postgres.DisposeAsync();
        await MariaDb.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class IdentityCollection : ICollectionFixture<IdentityFixture>
{
    public const string Name = "identity";
}

[Collection(IdentityCollection.Name)]
public sealed class DatabaseIdentityTests(IdentityFixture fixture)
{
    public static TheoryData<string> PostgresSpellings => new()
    {
        "localhost",
        "machine name",
        "postgresql://",
        "connection string",
        "least-privileged user",
    };

    [Theory]
    [MemberData(nameof(PostgresSpellings))]
    public async Task TheSamePostgresDatabaseSpelledAnotherWayIsTheSame(string spelling)
    {
        var server = fixture.Postgres;
        var source = EndpointAddress.Parse(server.ConnectionUri("shop"), role: EndpointRole.Source);
        var target = spelling switch
        {
            "localhost" => server.ConnectionUri("shop").Replace("@127.0.0.1:", "@localhost:"),
            "machine name" => server.ConnectionUri("shop").Replace("@127.0.0.1:", $"@{Dns.GetHostName()}:"),
            "postgresql://" => server.ConnectionUri("shop").Replace("postgres://", "postgresql://"),
            "connection string" => server.ConnectionString("shop"),
            _ => server.ConnectionUri("shop", IdentityFixture.Reader, IdentityFixture.ReaderPassword).Replace("@127.0.0.1:", "@localhost:"),
        };

        Assert.True(await DatabaseIdentity.AreSameAsync(source, EndpointAddress.Parse(target, role: EndpointRole.Target), default));
        // The least-privileged user sees the admin's probe as well as the other way round.
        Assert.True(await DatabaseIdentity.AreSameAsync(EndpointAddress.Parse(target), source, default));
    }

    [Fact]
    public async Task AnotherDatabaseOfTheSamePostgresServerIsNotTheSame()
    {
        var server = fixture.Postgres;
        Assert.False(await DatabaseIdentity.AreSameAsync(EndpointAddress.Parse(server.ConnectionUri("shop")),
            EndpointAddress.Parse(server.ConnectionUri("other", IdentityFixture.Reader, IdentityFixture.ReaderPassword)), default));
    }

    [Fact]
    public async Task TheSameDatabaseNameOnACopiedServerIsNotTheSame()
    {
        // Molt.Testing copies one data directory for every server: both share a system_identifier, and are still two servers.
        await using var copy = await PostgresServer.StartAsync();
        await copy.CreateDatabaseAsync("shop");
        Assert.Equal(await fixture.Postgres.ScalarAsync<long>("postgres", "SELECT system_identifier FROM pg_control_system()"),
            await copy.ScalarAsync<long>("postgres", "SELECT system_identifier FROM pg_control_system()"));
        Assert.False(await DatabaseIdentity.AreSameAsync(EndpointAddress.Parse(fixture.Postgres.ConnectionUri("shop")),
            EndpointAddress.Parse(copy.ConnectionUri("shop")), default));
    }

    [Fact]
    public async Task MariaDbIdentityComesFromTheServer()
    {
        var server = fixture.MariaDb;
        var source = EndpointAddress.Parse(server.ConnectionUri("shop"));
        Assert.True(await DatabaseIdentity.AreSameAsync(source,
            EndpointAddress.Parse(server.ConnectionUri("shop", IdentityFixture.Reader, IdentityFixture.ReaderPassword).Replace("mysql://", "mariadb://")
                .Replace("@127.0.0.1:", "@localhost:")), default));
        Assert.True(await DatabaseIdentity.AreSameAsync(source, EndpointAddress.Parse("Engine=MariaDB;" + server.ConnectionString("shop")), default));
        Assert.False(await DatabaseIdentity.AreSameAsync(source, EndpointAddress.Parse(server.ConnectionUri("other")), default));
    }

    [Fact]
    public async Task MySqlAndPgWireEndpointsAreNeverTheSame()
    {
        Assert.False(await DatabaseIdentity.AreSameAsync(EndpointAddress.Parse(fixture.MariaDb.ConnectionUri("shop")),
            EndpointAddress.Parse(fixture.Postgres.ConnectionUri("shop")), default));
    }

    [Fact]
    public async Task LoadingADatabaseIntoItselfIsRefusedBeforeAnythingIsWritten()
    {
        var server = fixture.Postgres;
        using var log = MoltLogSession.None();
        var error = await Assert.ThrowsAsync<MoltException>(() => BulkLoadSession.OpenAsync(
            EndpointAddress.Parse(server.ConnectionUri("shop"), role: EndpointRole.Source),
            EndpointAddress.Parse(server.ConnectionString("shop", IdentityFixture.Reader, IdentityFixture.ReaderPassword).Replace("127.0.0.1", "localhost"),
                role: EndpointRole.Target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate }, new SourceOptions { ReplicationSlot = "molt_self" }, log, default));

        Assert.Equal(("SourceIsTarget", MoltErrorKind.InvalidArgument), (error.ErrorId, error.Kind));
        Assert.StartsWith("target postgres://shop_reader@localhost:", error.Target);
        Assert.DoesNotContain(IdentityFixture.ReaderPassword, error.ToString());
        Assert.DoesNotContain(server.AdminPassword, error.ToString());
        Assert.Equal(0L, await server.ScalarAsync<long>("shop", "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'"));
        Assert.Equal(0L, await server.ScalarAsync<long>("shop", "SELECT count(*) FROM pg_replication_slots"));
        Assert.Equal(2L, await server.ScalarAsync<long>("shop", "SELECT count(*) FROM items"));
    }

    [Fact]
    public async Task LoadingIntoAnotherDatabaseOfTheSameServerIsAllowed()
    {
        var server = fixture.Postgres;
        using var log = MoltLogSession.None();
        await using var session = await BulkLoadSession.OpenAsync(EndpointAddress.Parse(server.ConnectionUri("shop")),
            EndpointAddress.Parse(server.ConnectionUri("other").Replace("@127.0.0.1:", "@localhost:")), new BulkLoadOptions(), new SourceOptions(), log, default);
    }

    [Fact]
    public async Task ComparingADatabaseWithItselfIsRefused()
    {
        foreach (var (source, target) in new[]
                 {
                     (fixture.Postgres.ConnectionUri("shop"), fixture.Postgres.ConnectionString("shop").Replace("127.0.0.1", "localhost")),
                     (fixture.MariaDb.ConnectionUri("shop"), fixture.MariaDb.ConnectionUri("shop", IdentityFixture.Reader, IdentityFixture.ReaderPassword)),
                 })
        {
            using var log = MoltLogSession.None();
            var error = await Assert.ThrowsAsync<MoltException>(() => CompareSession.RunAsync(EndpointAddress.Parse(source, role: EndpointRole.Source),
                EndpointAddress.Parse(target, role: EndpointRole.Target), new CompareOptions(), new CompareCallbacks(), log, default));
            Assert.Equal("SourceIsTarget", error.ErrorId);
        }

        using var allowed = MoltLogSession.None();
        var tables = await CompareSession.RunAsync(EndpointAddress.Parse(fixture.Postgres.ConnectionUri("shop")),
            EndpointAddress.Parse(fixture.Postgres.ConnectionUri("other")), new CompareOptions(), new CompareCallbacks(), allowed, default);
        Assert.Equal(ComparisonStatus.Equal, Assert.Single(tables).Status);
    }

    [Theory]
    [InlineData("mysql://app@db/shop")]
    [InlineData("mariadb://app@db/shop")]
    [InlineData("Engine=MySQL;Server=db;Database=shop")]
    public async Task AMySqlTargetIsRefusedBeforeAnythingConnects(string target)
    {
        using var log = MoltLogSession.None();
        // The source is unreachable: connecting to anything would fail with ConnectionFailed instead.
        var error = await Assert.ThrowsAsync<MoltException>(() => BulkLoadSession.OpenAsync(
            EndpointAddress.Parse("postgres://app:pw@127.0.0.1:1/shop", role: EndpointRole.Source), EndpointAddress.Parse(target, role: EndpointRole.Target),
            new BulkLoadOptions(), new SourceOptions(), log, default));
        Assert.Equal(("UnsupportedTarget", MoltErrorKind.InvalidArgument), (error.ErrorId, error.Kind));
        Assert.StartsWith("target m", error.Target);
    }

    [Fact]
    public async Task ACockroachDbUriThatReachesPostgresWarnsThatThePostgresDialectIsUsed()
    {
        var warnings = new List<string>();
        using var log = new MoltLogSession(e =>
        {
            if (e.Level == MoltLogLevel.Warning)
            {
                lock (warnings)
                {
                    warnings.Add(e.Message);
                }
            }
        });
        var target = fixture.Postgres.ConnectionUri("other").Replace("postgres://", "cockroachdb://");
        await using (await BulkLoadSession.OpenAsync(EndpointAddress.Parse(fixture.Postgres.ConnectionUri("shop")), EndpointAddress.Parse(target),
                         new BulkLoadOptions(), new SourceOptions(), log, default))
        {
        }

        var warning = Assert.Single(warnings);
        Assert.Contains("PostgreSQL dialect", warning);
        Assert.DoesNotContain(fixture.Postgres.AdminPassword, warning);
    }
}
