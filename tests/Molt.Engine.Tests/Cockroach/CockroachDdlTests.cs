using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Schema;
using Molt.Engine.Tests.Load;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// The exact SQL the CockroachDB dialect emits for real source catalogues (Pagila, Sakila and the type-torture tables,
/// read by the real catalog readers), held in Expected/*.sql.
/// </summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class CockroachPostgresDdlTests(PostgresSourceFixture fixture)
{
    private static readonly CockroachDialect Dialect = new(MissingPrimaryKey.AddRowId);

    [Fact]
    public async Task PagilaAsCockroachDbIsGivenIt()
    {
        var tables = await DialectScript.ReadCatalogAsync(fixture.Server.ConnectionUri("pagila"), TableFilter.All);
        DialectScript.AssertMatches(DialectScript.Render(tables, Dialect, SqlSyntax.Postgres, name => name), "pagila.sql");
    }

    [Fact]
    public async Task EveryPostgresTypeOfTheTortureTableHasItsCockroachDbType()
    {
        var database = await fixture.NewDatabaseAsync("crdb_torture");
        await fixture.Server.ExecuteAsync(database, TortureTables.Postgres);
        var tables = await DialectScript.ReadCatalogAsync(fixture.Server.ConnectionUri(database), TableFilter.All);
        DialectScript.AssertMatches(DialectScript.Render(tables, Dialect, SqlSyntax.Postgres, name => name), "postgres-torture.sql");
    }
}

[Collection(MySqlSourceCollection.Name)]
public sealed class CockroachMySqlDdlTests(MySqlSourceFixture fixture)
{
    private static readonly CockroachDialect Dialect = new(MissingPrimaryKey.AddRowId);

    private static readonly TypeMapOverrides SakilaSpatial =
        TypeMapOverrides.Parse("""[{"table": "sakila.address", "column_type_map": [{"column": "location", "target_type": "BYTES"}]}]""");

    [Fact]
    public async Task SakilaAsCockroachDbIsGivenIt()
    {
        var tables = await DialectScript.ReadCatalogAsync(fixture.Source.ConnectionUri("sakila"), TableFilter.All);
        DialectScript.AssertMatches(DialectScript.Render(tables, Dialect, SqlSyntax.MySql, name => new TableName("public", name.Name), SakilaSpatial),
            "sakila.sql");
    }

    [Fact]
    public async Task EveryMySqlTypeOfTheTortureTableHasItsCockroachDbType()
    {
        // A fixed name: the script names the source table.
        const string database = "crdb_torture";
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, TortureTables.MySql);
        var tables = await DialectScript.ReadCatalogAsync(fixture.Source.ConnectionUri(database), TableFilter.All);
        DialectScript.AssertMatches(DialectScript.Render(tables, Dialect, SqlSyntax.MySql, name => new TableName("public", name.Name)),
            "mysql-torture.sql");
    }
}
