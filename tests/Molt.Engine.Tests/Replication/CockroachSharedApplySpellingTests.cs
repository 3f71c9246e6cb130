using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Schema;
using Npgsql;
using static Molt.Engine.Tests.Replication.Apply;

namespace Molt.Engine.Tests.Replication;

/// <summary>The statements the CockroachDB applier spells as PostgreSQL does, run for real on the PostgreSQL target.</summary>
[Collection(ApplyTargetCollection.Name)]
public sealed class CockroachSharedApplySpellingTests(ApplyTargetFixture fixture)
{
    [Fact]
    public async Task The_batched_delete_the_update_by_key_the_keyless_insert_and_the_truncate_as_delete_run_as_written()
    {
        await using var target = await fixture.NewTargetAsync("crdb_apply_shared",
            """CREATE SCHEMA app; CREATE TABLE app."Items" ("A" int, "b" text, v text, PRIMARY KEY ("A", "b")); INSERT INTO app."Items" VALUES (1, 'x', 'one'), (2, 'y', 'two'), (3, 'z', 'three')""");
        var sql = new CockroachApplySql(CockroachTarget);
        var table = new TableName("app", "Items");
        await using var connection = await target.DataSource.OpenConnectionAsync();

        await ExecuteAsync(connection, sql.Dialect.DeleteByKeys(table, ["A", "b"], 2), "1", "x", "3", "z");
        await ExecuteAsync(connection, sql.UpdateByKey(table, ["v"], ["A", "b"]), "TWO", "2", "y");
        await ExecuteAsync(connection, sql.InsertRows(table, ["A", "b", "v"], 2), "4", "w", null, "5", "v", "five");

        Assert.Equal("(2,y,TWO)\n(4,w,)\n(5,v,five)", await target.RowsAsync("app.\"Items\"", "\"A\""));
        foreach (var statement in sql.EmptyTables([Plan("app", "Items", ["A", "b"], ("A", "integer"), ("b", "text"), ("v", "text"))], cascade: false))
        {
            await ExecuteAsync(connection, statement);
        }

        Assert.Equal("", await target.RowsAsync("app.\"Items\"", "\"A\""));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string statement, params string?[] values)
    {
        await using var command = new NpgsqlCommand(statement, connection);
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.Add(new NpgsqlParameter { ParameterName = "p" + i, Value = (object?)values[i] ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Unknown });
        }

        await command.ExecuteNonQueryAsync();
    }
}
