using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Tests.Load;
using MySqlConnector;
using Npgsql;

namespace Molt.Engine.Tests.Endpoints;

/// <summary>Each endpoint classifies the errors its own server raises, here raised for real.</summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class PgWireErrorClassifierTests(PostgresSourceFixture fixture)
{
    [Theory]
    [InlineData("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1); INSERT INTO t VALUES (1)", ErrorAction.RejectRow)]
    [InlineData("SELECT 40000::smallint", ErrorAction.RejectRow)]
    [InlineData("SELECT * FROM no_such_table", ErrorAction.Stop)]
    [InlineData("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$", ErrorAction.Retry)]
    [InlineData("DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = '40P01'; END $$", ErrorAction.Retry)]
    [InlineData("DO $$ BEGIN RAISE EXCEPTION 'going down' USING ERRCODE = '57P01'; END $$", ErrorAction.Reconnect)]
    public async Task A_PostgreSQL_error_is_classified_by_its_SQLSTATE(string sql, ErrorAction expected)
    {
        var database = await fixture.NewDatabaseAsync("classify");
        var error = await Assert.ThrowsAsync<PostgresException>(() => fixture.Server.ExecuteAsync(database, sql));
        Assert.Equal(expected, PgWireErrorClassifier.Instance.Classify(error));
    }

    [Fact]
    public async Task A_connection_the_server_ended_is_reconnected()
    {
        var database = await fixture.NewDatabaseAsync("classify");
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString(database));
        await connection.OpenAsync();
        await using (var pid = new NpgsqlCommand("SELECT pg_backend_pid()", connection))
        {
            var backend = (int)(await pid.ExecuteScalarAsync())!;
            await fixture.Server.ExecuteAsync(database, $"SELECT pg_terminate_backend({backend})");
        }

        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(async () =>
        {
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync();
        });
        Assert.Equal(ErrorAction.Reconnect, PgWireErrorClassifier.Instance.Classify(error));
    }
}

[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlErrorClassifierTests(MySqlSourceFixture fixture)
{
    [Theory]
    [InlineData("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1); INSERT INTO t VALUES (1)", ErrorAction.RejectRow)]
    [InlineData("SELECT * FROM no_such_table", ErrorAction.Stop)]
    public async Task A_MariaDB_error_is_classified_by_its_code(string sql, ErrorAction expected)
    {
        var database = "classify_" + Guid.NewGuid().ToString("N")[..8];
        await fixture.Source.CreateDatabaseAsync(database);
        var error = await Assert.ThrowsAsync<MySqlException>(() => fixture.Source.ExecuteAsync(database, sql));
        Assert.Equal(expected, MySqlErrorClassifier.Instance.Classify(error));
    }
}
