using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Endpoints.Postgres.Replication;
using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Tests.Replication;

[Collection(PostgresReplicationCollection.Name)]
public sealed class PostgresPublicationTests(PostgresReplicationFixture fixture)
{
    [Fact]
    public async Task ThePublicationNamesExactlyThePlannedTablesQuotedAndIsCheckedWhenItExists()
    {
        var database = await fixture.NewDatabaseAsync("pub");
        await fixture.Server.ExecuteAsync(database, """"
            CREATE SCHEMA "Odd ""Schema"""; CREATE TABLE "Odd ""Schema"""."My Table" (id int PRIMARY KEY); CREATE TABLE plain (id int PRIMARY KEY);
            CREATE TABLE unplanned (id int PRIMARY KEY);
            """");
        var tables = await TablesAsync(database, "plain", "Odd \"Schema\".My Table");
        await using var connection = await OpenAsync(database);
        var name = PostgresPublication.DefaultName("0F8FAD5B-D9CB-469F-A165-70867728950E");

        var identities = await PostgresPublication.EnsureAsync(connection, name, tables, CancellationToken.None);
        await PostgresPublication.EnsureAsync(connection, name, tables, CancellationToken.None);
        await PostgresPublication.RequireAsync(connection, name, tables, CancellationToken.None);

        Assert.Equal("molt_0f8fad5b_d9cb_469f_a165_70867728950e", name);
        Assert.All(identities, i => Assert.Equal(["id"], i.KeyColumns));
        Assert.Equal("Odd \"Schema\".My Table,public.plain", await fixture.Server.ScalarAsync<string>(database,
            $"SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY schemaname) FROM pg_publication_tables WHERE pubname = '{name}'"));
        var wider = tables.Concat(await TablesAsync(database, "unplanned")).ToList();
        var error = await Assert.ThrowsAsync<MoltException>(() => PostgresPublication.EnsureAsync(connection, name, wider, CancellationToken.None));
        Assert.Equal("PublicationDiffers", error.ErrorId);
        Assert.Contains("does not publish public.unplanned", error.Message);
        var narrower = await Assert.ThrowsAsync<MoltException>(() => PostgresPublication.RequireAsync(connection, name, tables.Take(1).ToList(), CancellationToken.None));
        Assert.Contains("also publishes", narrower.Message);
    }

    [Fact]
    public async Task RemovingDropsSlotAndPublicationOnceAndRefusesASlotInUse()
    {
        var database = await fixture.NewDatabaseAsync("remove");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE t (id int PRIMARY KEY)");
        await using var connection = await OpenAsync(database);
        var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "t");
        await using (var reader = new ChangeReader(await setup.StartAsync()))
        {
            reader.WaitInBackground();
            await WaitForActiveAsync(database, setup.Slot);

            var busy = await Assert.ThrowsAsync<MoltException>(() => PostgresPublication.DropAsync(connection, setup.Slot, setup.Publication, CancellationToken.None));
            Assert.Equal(("ReplicationSlotInUse", MoltErrorKind.InUse), (busy.ErrorId, busy.Kind));
        }

        await WaitForInactiveAsync(database, setup.Slot);
        Assert.Equal((true, true), await PostgresPublication.DropAsync(connection, setup.Slot, setup.Publication, CancellationToken.None));
        Assert.Equal((false, false), await PostgresPublication.DropAsync(connection, setup.Slot, setup.Publication, CancellationToken.None));
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(database, "SELECT count(*) FROM pg_replication_slots") +
            await fixture.Server.ScalarAsync<long>(database, "SELECT count(*) FROM pg_publication"));
        await setup.DisposeAsync();
    }

    private async Task WaitForActiveAsync(string database, string slot)
    {
        for (var i = 0; !await fixture.Server.ScalarAsync<bool>(database, $"SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'"); i++)
        {
            Assert.True(i < 1200, "The slot never became active.");
            await Task.Delay(100);
        }
    }

    private async Task WaitForInactiveAsync(string database, string slot)
    {
        for (var i = 0; await fixture.Server.ScalarAsync<bool>(database, $"SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'"); i++)
        {
            Assert.True(i < 1200, "The slot stayed active after its stream was disposed.");
            await Task.Delay(100);
        }
    }

    private async Task<IReadOnlyList<TableModel>> TablesAsync(string database, params string[] names)
    {
        await using var dataSource = NpgsqlDataSource.Create(fixture.Server.ConnectionString(database));
        var tables = await new PostgresCatalogReader(dataSource).ReadTablesAsync(TableFilter.All, CancellationToken.None);
        return names.Select(n => tables.Single(t => t.Name.ToString() == (n.Contains('.') ? n : "public." + n))).ToList();
    }

    private async Task<NpgsqlConnection> OpenAsync(string database)
    {
        var connection = new NpgsqlConnection(fixture.Server.ConnectionString(database));
        await connection.OpenAsync();
        return connection;
    }
}
