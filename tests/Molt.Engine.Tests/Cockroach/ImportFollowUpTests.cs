using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Tests.Load;
using Npgsql;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// What a CockroachDB load does beside its COPY and IMPORT INTO, run for real on PostgreSQL where the spelling is
/// shared: constraints an import left unvalidated are validated, and target connections take their session settings.
/// </summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class ImportFollowUpTests(PostgresSourceFixture fixture)
{
    [Fact]
    public async Task ConstraintsLeftUnvalidatedAreValidatedAndABrokenOneIsNamed()
    {
        var database = await fixture.NewDatabaseAsync("validate");
        // NOT VALID stands for what IMPORT INTO leaves: constraints the imported rows were never checked against.
        await fixture.Server.ExecuteAsync(database, """
            CREATE TABLE parent (id int PRIMARY KEY);
            INSERT INTO parent VALUES (1);
            CREATE TABLE "Child Rows" (id int PRIMARY KEY, parent_id int NOT NULL, qty int);
            INSERT INTO "Child Rows" VALUES (1, 1, 5), (2, 1, 7);
            ALTER TABLE "Child Rows" ADD CONSTRAINT "qty positive" CHECK (qty > 0) NOT VALID;
            ALTER TABLE "Child Rows" ADD CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID;
            """);
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString(database));
        await connection.OpenAsync();
        var table = new TableName("public", "Child Rows");
        var dialect = new CockroachDialect(MissingPrimaryKey.Refuse);

        Assert.Null(await ConstraintValidation.ValidateAsync(connection, dialect, table, CancellationToken.None));
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(database, "SELECT count(*) FROM pg_constraint WHERE NOT convalidated"));

        await fixture.Server.ExecuteAsync(database, """
            ALTER TABLE "Child Rows" DROP CONSTRAINT child_parent;
            INSERT INTO "Child Rows" VALUES (3, 99, 1);
            ALTER TABLE "Child Rows" ADD CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID;
            """);
        var broken = await ConstraintValidation.ValidateAsync(connection, dialect, table, CancellationToken.None);
        Assert.NotNull(broken);
        Assert.StartsWith("constraint child_parent does not hold for the imported rows", broken);
    }

    [Fact]
    public void CockroachDbLoadsCopyAtRegularPriority() =>
        Assert.Equal(["SET copy_transaction_quality_of_service = 'regular'"], CockroachSessionSettings.Load);

    [Fact]
    public async Task EveryConnectionOfATargetDataSourceTakesItsSessionSettings()
    {
        var address = EndpointAddress.Parse(fixture.Server.ConnectionUri("postgres"));
        await using var dataSource = PgWireConnections.CreateDataSource(address, sessionSettings: ["SET statement_timeout = '4321s'"]);
        await using var first = await dataSource.OpenConnectionAsync();
        await using var second = await dataSource.OpenConnectionAsync();
        foreach (var connection in new[] { first, second })
        {
            await using var show = new NpgsqlCommand("SHOW statement_timeout", connection);
            Assert.Equal("4321s", await show.ExecuteScalarAsync());
        }
    }
}
