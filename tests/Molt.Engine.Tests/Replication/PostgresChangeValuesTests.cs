using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Endpoints.Postgres.Replication;
using Molt.Engine.Replication;
using Npgsql;

namespace Molt.Engine.Tests.Replication;

[Collection(PostgresReplicationCollection.Name)]
public sealed class PostgresChangeValuesTests(PostgresReplicationFixture fixture)
{
    [Fact]
    public async Task EveryTortureTypeArrivesAsItsOutputTextUnderTheStreamsSettings()
    {
        var database = await fixture.NewDatabaseAsync("torture");
        await fixture.Server.ExecuteAsync(database, TortureTables.Postgres);
        // Defaults a session would otherwise inherit, each writing some type differently: the stream's own settings win.
        await fixture.Server.ExecuteAsync(database, $"""
            ALTER DATABASE {database} SET TimeZone = 'Asia/Kolkata'; ALTER DATABASE {database} SET DateStyle = 'SQL, DMY';
            ALTER DATABASE {database} SET IntervalStyle = 'sql_standard'; ALTER DATABASE {database} SET bytea_output = 'escape';
            ALTER DATABASE {database} SET extra_float_digits = -3;
            """);
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "Torture Table");
        await setup.ExecuteAsync(TortureTables.PostgresRows);
        var columns = setup.Tables[0].CopiedColumns.Select(c => c.Name).ToList();
        var expected = new List<string?[]>();
        await using (var connection = new NpgsqlConnection(fixture.Server.ConnectionString(database)))
        {
            await connection.OpenAsync();
            await using var settings = new NpgsqlCommand(string.Join("; ", PostgresChangeSource.OutputSettings.Select(s => s.Split('=')).Select(s => $"SET {s[0]} = '{s[1]}'")), connection);
            await settings.ExecuteNonQueryAsync();
            // Every value in text format: what each type's output function writes, as ::text does (except that a cast of
            // char(n) to text drops the padding the value keeps).
            await using var select = new NpgsqlCommand(
                $"SELECT {PgWireSyntax.QuoteList(columns)} FROM \"Torture Table\" ORDER BY id", connection) { AllResultTypesAreUnknown = true };
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                expected.Add(Enumerable.Range(0, columns.Count).Select(i => reader.IsDBNull(i) ? null : reader.GetString(i)).ToArray());
            }
        }

        await using var changes = new ChangeReader(await setup.StartAsync());
        var rows = (await changes.NextTransactionAsync()).Rows.ToList();

        Assert.Equal(3, rows.Count);
        Assert.Equal(columns, rows[0].Table.Columns);
        for (var row = 0; row < 3; row++)
        {
            for (var column = 0; column < columns.Count; column++)
            {
                Assert.True(expected[row][column] == (string?)rows[row].New!.Values[column],
                    $"Row {row + 1}, column {columns[column]}: expected {expected[row][column] ?? "NULL"}, got {rows[row].New!.Values[column] ?? "NULL"}.");
                Assert.True(rows[row].New!.IsPresent(column));
            }
        }

        Assert.Contains("294276-12-31 23:59:59.999999", rows[0].New!.Values);
        Assert.Contains("\\x00ff00", rows[0].New!.Values);
        Assert.Equal("ab   ", rows[0].New!.Values[columns.IndexOf("c")]);
        Assert.Equal("1970-01-01 00:00:00+00", rows[0].New!.Values[columns.IndexOf("tstz")]);
        Assert.Equal("1.7976931348623157e+308", rows[0].New!.Values[columns.IndexOf("d")]);
    }

    [Fact]
    public async Task ASlotCreatedBeforeItsPublicationFailsWithAnErrorThatSaysSo()
    {
        var database = await fixture.NewDatabaseAsync("latepub");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE t (id int PRIMARY KEY)");
        var slot = $"molt_{Guid.NewGuid():N}"[..24];
        var start = PostgresLsn.Parse((await fixture.Server.ScalarAsync<string>(database, $"SELECT lsn::text FROM pg_create_logical_replication_slot('{slot}', 'pgoutput')"))!);
        await fixture.Server.ExecuteAsync(database, "INSERT INTO t VALUES (1)");
        await using var setupTables = await ReplicationSetup.CreateAsync(fixture.Server, database, "t");
        await using var source = new PostgresChangeSource(setupTables.Address, slot, PostgresPublication.DefaultName("late"));
        try
        {
            await using var reader = new ChangeReader(await source.StartAsync(start, setupTables.Tables, CancellationToken.None));

            var error = await Assert.ThrowsAsync<MoltException>(reader.NextAsync);

            Assert.Equal("PublicationNotFound", error.ErrorId);
            Assert.Contains("create it before the slot", error.Message);
        }
        finally
        {
            await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString(database));
            await connection.OpenAsync();
            await PostgresPublication.DropAsync(connection, slot, PostgresPublication.DefaultName("late"), CancellationToken.None);
        }
    }
}
