using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using static Molt.Engine.Tests.Replication.Apply;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// A batch of several source transactions written as each set-safe table's net effect (a batched DELETE and a multi-row
/// upsert), and every other table in the source's exact order, into a real PostgreSQL target.
/// </summary>
[Collection(ApplyTargetCollection.Name)]
public sealed class SetApplyTests(ApplyTargetFixture fixture)
{
    private static readonly TablePlan Items = Plan("app", "items", ["id"], ("id", "integer"), ("name", "text"), ("body", "text"));

    private const string ItemsDdl = """CREATE SCHEMA app; CREATE TABLE app.items (id integer PRIMARY KEY, name text, body text NOT NULL);""";

    /// <summary>Every source transaction of a test in one target transaction.</summary>
    private static readonly ReplicationOptions OneBatch = new() { Batch = new ApplyBatchLimits(10_000, 8L * 1024 * 1024, TimeSpan.FromMinutes(5)) };

    [Fact]
    public async Task Keys_changed_many_times_across_source_transactions_end_as_their_last_row_with_the_sources_counts()
    {
        await using var target = await fixture.NewTargetAsync("set_repeated", ItemsDdl + " INSERT INTO app.items VALUES (1, 'old', 'x'), (2, 'old', 'y'), (3, 'old', 'z');");
        var source = new FakeChangeSource();
        var items = Table(Items);
        // pgbench's shape: the same few rows updated by every transaction, new rows inserted beside them.
        for (var i = 1; i <= 30; i++)
        {
            source.Commit(Update(items, ["1"], "1", $"n{i}", "x"), Update(items, ["2"], "2", $"m{i}", "y"), Insert(items, $"{100 + i}", $"new {i}", "b"));
        }

        var last = source.Commit(Delete(items, "3"), Delete(items, "130"), Update(items, ["129"], "129", "changed", "c"));

        var final = await target.RunAsync(source, [Items], OneBatch with { StopAt = last.ToString() });

        Assert.Equal("1|n30|x,2|m30|y,129|changed|c", await target.ScalarAsync<string>(
            "SELECT string_agg(concat_ws('|', id, name, body), ',' ORDER BY id) FROM app.items WHERE id < 100 OR id = 129"));
        Assert.Equal(29L, await target.ScalarAsync<long>("SELECT count(*) FROM app.items WHERE id > 100"));
        Assert.Equal((31L, 30L, 61L, 2L), (final.Transactions, final.Inserts, final.Updates, final.Deletes));
        Assert.Equal($"{last}|31|30|61|2", await target.ScalarAsync<string>(
            "SELECT concat_ws('|', position, transactions, inserts, updates, deletes) FROM _molt.replication_checkpoints WHERE fetch_id = 'f1'"));
    }

    [Fact]
    public async Task A_key_inserted_deleted_and_inserted_again_in_one_batch_holds_the_last_insert()
    {
        await using var target = await fixture.NewTargetAsync("set_reinsert", ItemsDdl + " INSERT INTO app.items VALUES (2, 'gone', 'y');");
        var source = new FakeChangeSource();
        var items = Table(Items);
        source.Commit(Insert(items, "1", "first", "a"));
        source.Commit(Delete(items, "1"), Delete(items, "2"));
        source.Commit(Insert(items, "1", "second", "b"), Insert(items, "2", "back", "c"));
        var last = source.Commit(Insert(items, "3", "brief", "d"), Delete(items, "3"));

        await target.RunAsync(source, [Items], OneBatch with { StopAt = last.ToString() });

        Assert.Equal("(1,second,b)\n(2,back,c)", await target.RowsAsync("app.items", "id"));
    }

    [Fact]
    public async Task Key_changes_move_rows_and_two_rows_swap_keys_through_a_free_one()
    {
        await using var target = await fixture.NewTargetAsync("set_key_change", ItemsDdl + " INSERT INTO app.items VALUES (1, 'a', 'x'), (2, 'b', 'y'), (5, 'e', 'v');");
        var source = new FakeChangeSource();
        var items = Table(Items);
        // The swap a source with a non-deferrable key must make: 1 -> 3, 2 -> 1, 3 -> 2, over two transactions.
        source.Commit(Update(items, ["1"], "3", "a", "x") with { OldKey = ["1"] }, Update(items, ["2"], "1", "b", "y") with { OldKey = ["2"] });
        source.Commit(Update(items, ["3"], "2", "a", "x") with { OldKey = ["3"] });
        // A row moved twice, the key it left taken by a new row.
        var last = source.Commit(Update(items, ["5"], "6", "e", "v") with { OldKey = ["5"] }, Update(items, ["6"], "7", "e7", "v") with { OldKey = ["6"] },
            Insert(items, "5", "new five", "w"));

        await target.RunAsync(source, [Items], OneBatch with { StopAt = last.ToString() });

        Assert.Equal("(1,b,y)\n(2,a,x)\n(5,\"new five\",w)\n(7,e7,v)", await target.RowsAsync("app.items", "id"));
    }

    [Fact]
    public async Task A_swap_of_values_under_a_unique_constraint_the_plan_does_not_know_keeps_the_sources_order()
    {
        // A net upsert of both rows at once would meet the old value still in the other row: the table must stay in order.
        await using var target = await fixture.NewTargetAsync("set_unique_swap", ItemsDdl + """
             ALTER TABLE app.items ADD CONSTRAINT items_name_key UNIQUE (name);
             INSERT INTO app.items VALUES (1, 'a', 'x'), (2, 'b', 'y');
             """);
        var source = new FakeChangeSource();
        var items = Table(Items);
        source.Commit(Update(items, ["1"], "1", "swap", "x"), Update(items, ["2"], "2", "a", "y"));
        var last = source.Commit(Update(items, ["1"], "1", "b", "x"));

        await target.RunAsync(source, [Items], OneBatch with { StopAt = last.ToString() });

        Assert.Equal("(1,b,x)\n(2,a,y)", await target.RowsAsync("app.items", "id"));
    }

    [Fact]
    public async Task Parents_and_children_linked_only_on_the_target_are_inserted_and_deleted_in_the_sources_order()
    {
        var children = Plan("app", "children", ["id"], ("id", "integer"), ("item", "integer"));
        // The plan knows no foreign key; the target has one. Either table written first as a net effect would break it.
        await using var target = await fixture.NewTargetAsync("set_fk", ItemsDdl + """
             CREATE TABLE app.children (id integer PRIMARY KEY, item integer NOT NULL REFERENCES app.items (id));
             INSERT INTO app.items VALUES (1, 'a', 'x'); INSERT INTO app.children VALUES (1, 1);
             """);
        var source = new FakeChangeSource();
        var (items, childRows) = (Table(Items), Table(children));
        source.Commit(Delete(childRows, "1"), Delete(items, "1"));
        source.Commit(Insert(items, "2", "b", "y"));
        source.Commit(Insert(childRows, "2", "2"), Insert(items, "3", "c", "z"), Insert(childRows, "3", "3"));
        var last = source.Commit(Delete(childRows, "3"), Delete(items, "3"));

        await target.RunAsync(source, [Items, children], OneBatch with { StopAt = last.ToString() });

        Assert.Equal("(2,b,y)", await target.RowsAsync("app.items", "id"));
        Assert.Equal("(2,2)", await target.RowsAsync("app.children", "id"));
    }

    [Fact]
    public async Task Unchanged_toasted_columns_keep_the_targets_value_or_the_value_the_batch_wrote_before()
    {
        await using var target = await fixture.NewTargetAsync("set_toast", ItemsDdl + " INSERT INTO app.items VALUES (1, 'a', 'on target');");
        var source = new FakeChangeSource();
        var items = Table(Items);
        var big = new string('t', 5000);
        // Row 1's body is known only to the target; row 5's was written earlier in the batch, so the net row carries it.
        source.Commit(Update(items, ["1"], "1", "renamed", Unchanged), Insert(items, "5", "e", big));
        source.Commit(Update(items, ["5"], "5", "e2", Unchanged), Update(items, ["1"], "1", "renamed again", Unchanged));
        var last = source.Commit(Update(items, ["5"], "6", "e3", Unchanged) with { OldKey = ["5"] }, Insert(items, "7", "g", "small"),
            Delete(items, "7"), Update(items, ["7"], "7", "after delete", Unchanged));

        await target.RunAsync(source, [Items], OneBatch with { StopAt = last.ToString() });

        Assert.Equal("1|renamed again|on target\n6|e3|" + big, await target.ScalarAsync<string>(
            "SELECT string_agg(concat_ws('|', id, name, body), E'\\n' ORDER BY id) FROM app.items"));
    }

    [Fact]
    public async Task A_keyless_table_beside_a_set_safe_one_is_still_matched_row_by_row()
    {
        var log = Plan("app", "log", [], ("msg", "text"), ("n", "integer"));
        await using var target = await fixture.NewTargetAsync("set_keyless", ItemsDdl + " CREATE TABLE app.log (msg text, n integer);");
        var source = new FakeChangeSource();
        var (items, logRows) = (Table(Items), Table(log, full: true));
        source.Commit(Insert(logRows, "dup", "1"), Insert(items, "1", "a", "x"), Insert(logRows, "dup", "1"));
        // Duplicates: one delete takes one of them, one update the other.
        var last = source.Commit(new RowChange(logRows, RowChangeKind.Delete) { Key = ["dup", "1"] }, Update(items, ["1"], "1", "b", "x"),
            new RowChange(logRows, RowChangeKind.Update) { Key = ["dup", "1"], New = Image("kept", "2") });

        await target.RunAsync(source, [Items, log], OneBatch with { StopAt = last.ToString() });

        Assert.Equal("(kept,2)", await target.RowsAsync("app.log", "msg"));
        Assert.Equal("(1,b,x)", await target.RowsAsync("app.items", "id"));
    }

    [Fact]
    public async Task The_target_catalog_keeps_tables_with_foreign_keys_unique_constraints_or_user_triggers_off_the_set_path()
    {
        await using var target = await fixture.NewTargetAsync("set_catalog", """
            CREATE SCHEMA app; CREATE SCHEMA other;
            CREATE TABLE app.plain (id integer PRIMARY KEY, v text);
            CREATE TABLE app.referenced (id integer PRIMARY KEY);
            CREATE TABLE other.referencing (id integer PRIMARY KEY, r integer REFERENCES app.referenced (id));
            CREATE TABLE other.parent (id integer PRIMARY KEY);
            CREATE TABLE app.referencing (id integer PRIMARY KEY, p integer REFERENCES other.parent (id));
            CREATE TABLE app.uniq (id integer PRIMARY KEY, code text UNIQUE);
            CREATE TABLE app.uniq_index (id integer PRIMARY KEY, code text);
            CREATE UNIQUE INDEX uniq_index_code ON app.uniq_index (lower(code));
            CREATE TABLE app.audited (id integer PRIMARY KEY);
            CREATE FUNCTION app.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
            CREATE TRIGGER audited BEFORE INSERT ON app.audited FOR EACH ROW EXECUTE FUNCTION app.audit();
            CREATE TABLE app.keyless (v text);
            """);
        var stamped = Plan("app", "stamped", ["id"], ("id", "integer"), ("at", "timestamp with time zone"));
        stamped = stamped with { Columns = [stamped.Columns[0], stamped.Columns[1] with { Source = stamped.Columns[1].Source with { OnUpdateExpression = "CURRENT_TIMESTAMP" } }] };
        // Molt's own ON UPDATE trigger, as the dialect creates it for MySQL's ON UPDATE CURRENT_TIMESTAMP: it does nothing while Molt writes.
        await target.ExecuteAsync("CREATE TABLE app.stamped (id integer PRIMARY KEY, at timestamptz)");
        var onUpdate = new PostgresDialect().PostLoadStatements(stamped, new Dictionary<TableName, TablePlan>())
            .Where(s => s.Description.StartsWith("ON UPDATE of", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, onUpdate.Count);
        foreach (var statement in onUpdate)
        {
            await target.ExecuteAsync(statement.Sql!);
        }

        var plans = new[] { "plain", "referenced", "referencing", "uniq", "uniq_index", "audited", "keyless", "stamped" }
            .Select(t => Plan("app", t, t == "keyless" ? [] : ["id"], ("id", "integer"))).ToList();
        await using var connection = await target.DataSource.OpenConnectionAsync();

        var blocked = await SetSafeTables.ReadAsync(connection, null, plans, CancellationToken.None);

        Assert.Equal(
            [
                "app.audited: trigger audited", "app.keyless: no primary key", "app.referenced: foreign key referencing_r_fkey",
                "app.referencing: foreign key referencing_p_fkey", "app.uniq: constraint uniq_code_key", "app.uniq_index: unique index uniq_index_code",
            ],
            blocked.Select(b => $"{b.Key}: {b.Value}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_net_effect_is_one_batched_delete_then_multi_row_upserts_split_by_parameters_in_either_dialect()
    {
        var plan = Plan("app", "Items", ["id"], ("id", "integer"), ("name", "text"));
        var table = Table(plan);
        var net = new TableNetChanges(TableApply.Create(plan, table));
        foreach (var change in new[]
                 {
                     Insert(table, "1", "a"), Insert(table, "2", "b"), Update(table, ["1"], "1", "a2"), Delete(table, "2"), Delete(table, "9"),
                     Update(table, ["3"], "4", "moved") with { OldKey = ["3"] }, Insert(table, "5", "e"),
                 })
        {
            Assert.True(net.TryAdd(change));
        }

        Assert.False(net.TryAdd(Update(table, ["8"], "8", Unchanged)));
        var cockroach = net.Drain(new CockroachApplySql(CockroachTarget), maxParameters: 4, maxBytes: 1024);

        Assert.Equal(
            [
                """DELETE FROM "app"."Items" WHERE ("id") IN ((@p0), (@p1), (@p2))""",
                """UPSERT INTO "app"."Items" ("id", "name") VALUES (@p0, @p1), (@p2, @p3)""",
                """UPSERT INTO "app"."Items" ("id", "name") VALUES (@p0, @p1)""",
            ],
            cockroach.Select(s => s.Sql));
        Assert.Equal(["2", "9", "3", "1|a2", "4|moved", "5|e"], cockroach.SelectMany(s => s.Rows).Select(r => string.Join("|", r)));
        Assert.True(net.IsEmpty);

        Assert.True(net.TryAdd(Insert(table, "1", "a")));
        Assert.Equal(["INSERT INTO \"app\".\"Items\" (\"id\", \"name\") VALUES (@p0, @p1) ON CONFLICT (\"id\") DO UPDATE SET \"name\" = EXCLUDED.\"name\""],
            net.Drain(new PostgresApplySql(new PostgresDialect()), 16_384, 1024).Select(s => s.Sql));
    }

    [Fact]
    public void Row_keys_of_byte_arrays_and_close_timestamps_spell_apart()
    {
        Assert.NotEqual(RowKeys.Text([new byte[] { 1 }]), RowKeys.Text([new byte[] { 2 }]));
        var at = new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc);
        Assert.NotEqual(RowKeys.Text([at]), RowKeys.Text([at.AddTicks(10)]));
        Assert.NotEqual(RowKeys.Text(["1", null]), RowKeys.Text([null, "1"]));
    }
}
