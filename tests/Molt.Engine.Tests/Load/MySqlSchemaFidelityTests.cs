using Molt.Engine.Load;
using Molt.Engine.State;
using Molt.Engine.Schema;
using Molt.Engine.Tests.Verify;
using Molt.Engine.Verify;
using Npgsql;

namespace Molt.Engine.Tests.Load;

/// <summary>What a MySQL schema states beyond types (issue 14): carried to the PostgreSQL target, or named in the plan with the reason.</summary>
[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlSchemaFidelityTests(MySqlSourceFixture fixture)
{
    private const string Schema = """
        CREATE TABLE parent (id INT PRIMARY KEY, code INT NOT NULL, KEY code_idx (code));
        CREATE TABLE orders (
            id SERIAL PRIMARY KEY,
            status ENUM('new','paid','sent') NOT NULL DEFAULT 'paid',
            flags SET('a','b','c.d') NOT NULL DEFAULT 'a,b',
            note VARCHAR(40) NOT NULL DEFAULT 'it''s new',
            qty INT NOT NULL DEFAULT 1,
            price DECIMAL(10,2) DEFAULT 9.50 CHECK (price >= 0),
            bits BIT(4) DEFAULT b'1010',
            created DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
            changed TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
            total DECIMAL(12,2) AS (price * qty) STORED,
            slashed DECIMAL(12,4) AS (price / 2) VIRTUAL,
            parent_code INT,
            CONSTRAINT qty_positive CHECK (qty > 0 AND qty < 1000),
            CONSTRAINT note_like CHECK (note NOT LIKE 'x%'),
            CONSTRAINT orders_parent_code FOREIGN KEY (parent_code) REFERENCES parent (code)
        );
        INSERT INTO parent VALUES (1, 10), (2, 10);
        INSERT INTO orders (id, status, flags, qty, price, parent_code) VALUES (1, 'new', 'a', 2, 1.25, 10), (2, DEFAULT, 'c.d,a', 3, NULL, NULL);
        INSERT INTO orders (id, qty, price) VALUES (7, 1, 2.00);
        """;

    [Fact]
    public async Task Defaults_checks_set_members_generated_columns_serial_keys_and_on_update_are_carried_and_what_is_not_is_named_with_why()
    {
        var database = $"fid_{Guid.NewGuid():N}"[..16];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, Schema);
        var target = await fixture.NewTargetAsync("fidelity");

        var (plan, summary, tables, log) = await LoadAsync(database, target);

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        var (compared, _) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target), new CompareOptions());
        Assert.All(compared, c => Assert.Equal(ComparisonStatus.Equal, c.Status));
        var orders = plan.Tables.Single(t => t.Plan.Source.Name.Name == "orders");
        var notCarried = orders.PostLoad.Where(s => s.Sql is null).ToDictionary(s => s.Description, s => s.NotTranslatedReason!);
        Assert.Contains("divides integers", notCarried["generated column slashed"], StringComparison.Ordinal);
        Assert.Contains("like", notCarried["check constraint note_like"], StringComparison.OrdinalIgnoreCase);
        Assert.Contains("not its primary key or a unique key", notCarried["foreign key orders_parent_code"], StringComparison.Ordinal);
        Assert.Equal(3, notCarried.Count);
        Assert.Contains(log, l => l.Contains("not carried over: foreign key orders_parent_code: it references", StringComparison.Ordinal));

        await using var connection = new NpgsqlConnection(fixture.Target.ConnectionString(target));
        await connection.OpenAsync();
        var defaults = await ColumnFactsAsync(connection);
        Assert.Equal("'paid'::text", defaults["status"].Default);
        Assert.Equal("'a,b'::text", defaults["flags"].Default);
        Assert.Equal("'it''s new'::character varying", defaults["note"].Default);
        Assert.Equal("1", defaults["qty"].Default);
        Assert.Equal("9.50", defaults["price"].Default);
        Assert.Equal("'1010'::\"bit\"", defaults["bits"].Default);
        Assert.Equal("LOCALTIMESTAMP(3)", defaults["created"].Default);
        Assert.Equal("CURRENT_TIMESTAMP", defaults["changed"].Default);
        Assert.StartsWith("(nextval('orders_id_seq'::regclass))::numeric", defaults["id"].Default, StringComparison.Ordinal);
        Assert.Equal("(price * (qty)::numeric)", defaults["total"].Generated);
        Assert.Null(defaults["slashed"].Generated);

        // The loaded values, the generated one too, are the source's.
        Assert.Equal("2.50||2.00", await Scalar(connection, "SELECT string_agg(coalesce(total::text, '') , '|' ORDER BY id) FROM orders"));

        // New rows get the defaults and a number after the loaded ones; checks and SET members hold.
        Assert.Equal("8|paid|a,b|it's new|1", await Scalar(connection,
            "INSERT INTO orders (parent_code) VALUES (NULL) RETURNING id || '|' || status || '|' || flags || '|' || note || '|' || qty"));
        await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, "INSERT INTO orders (qty) VALUES (0)"));
        await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, "INSERT INTO orders (price) VALUES (-1)"));
        await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, "INSERT INTO orders (flags) VALUES ('a,z')"));
        await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, "INSERT INTO orders (status) VALUES ('lost')"));
        await Execute(connection, "INSERT INTO orders (flags) VALUES ('')");

        // ON UPDATE: an update that leaves the column alone moves it, one that sets it keeps its value, and Molt's own writes keep the source's.
        await Execute(connection, "UPDATE orders SET changed = '2001-01-01 00:00:00+00' WHERE id = 1");
        await Execute(connection, "UPDATE orders SET qty = 5 WHERE id = 1");
        Assert.Equal("True", await Scalar(connection, "SELECT (changed > '2020-01-01')::text FROM orders WHERE id = 1"), ignoreCase: true);
        await Execute(connection, "UPDATE orders SET changed = '2001-01-01 00:00:00+00' WHERE id = 1");
        await Execute(connection, "SET molt.writing = 'on'; UPDATE orders SET qty = 6 WHERE id = 1; RESET molt.writing");
        Assert.Equal("2001-01-01", await Scalar(connection, "SELECT (changed AT TIME ZONE 'UTC')::date::text FROM orders WHERE id = 1"));

        Assert.Equal(2, tables.Count);
    }

    private async Task<(LoadPlan Plan, BulkLoadSummary Summary, List<TableLoadResult> Tables, List<string> Log)> LoadAsync(string database, string target) =>
        await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });

    private static async Task<Dictionary<string, (string? Default, string? Generated)>> ColumnFactsAsync(NpgsqlConnection connection)
    {
        var facts = new Dictionary<string, (string?, string?)>();
        await using var command = new NpgsqlCommand("""
            SELECT column_name, CASE WHEN is_generated = 'ALWAYS' THEN NULL ELSE column_default END, generation_expression
            FROM information_schema.columns WHERE table_name = 'orders'
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            facts[reader.GetString(0)] = (reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
        }

        return facts;
    }

    private static async Task<string?> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
