using Molt.Engine.Replication;
using static Molt.Engine.Tests.Replication.Apply;

namespace Molt.Engine.Tests.Replication;

/// <summary>What the pgwire applier writes into a real PostgreSQL target, change kind by change kind (the source is in memory).</summary>
[Collection(ApplyTargetCollection.Name)]
public sealed class PgWireApplyTests(ApplyTargetFixture fixture)
{
    private static readonly Molt.Engine.Schema.TablePlan Items = Plan("app", "items", ["id"], ("id", "integer"), ("name", "text"), ("body", "text"));

    private const string ItemsDdl = """CREATE SCHEMA app; CREATE TABLE app.items (id integer PRIMARY KEY, name text, body text NOT NULL);""";

    [Fact]
    public async Task Inserts_updates_and_deletes_arrive_in_source_order_with_the_checkpoint_in_the_same_transaction()
    {
        await using var target = await fixture.NewTargetAsync("apply_basic", ItemsDdl);
        var source = new FakeChangeSource();
        var items = Table(Items);
        source.Commit(Insert(items, "1", "a", "x"), Insert(items, "2", "b", "y"), Insert(items, "3", "c", "z"));
        // The same key twice in one run: the upsert must not name it twice, and the later row wins.
        source.Commit(Update(items, ["2"], "2", "b2", "y2"), Insert(items, "4", "d", "w"), Update(items, ["4"], "4", "d2", "w2"));
        var last = source.Commit(Delete(items, "1"), Insert(items, "1", "a again", "x2"), Delete(items, "3"));

        var final = await target.RunAsync(source, [Items], new ReplicationOptions { StopAt = last.ToString() });

        Assert.Equal("(1,\"a again\",x2)\n(2,b2,y2)\n(4,d2,w2)", await target.RowsAsync("app.items", "id"));
        Assert.Equal(ReplicationState.Stopped, final.State);
        Assert.Equal(last, final.SourcePosition);
        Assert.Equal((3L, 5L, 2L, 2L), (final.Transactions, final.Inserts, final.Updates, final.Deletes));
        Assert.Equal($"postgres-lsn|{last}|3|5|2|2", await target.ScalarAsync<string>(
            "SELECT concat_ws('|', position_notation, position, transactions, inserts, updates, deletes) FROM _molt.replication_checkpoints WHERE fetch_id = 'f1'"));
        Assert.Equal(last, source.Confirmed);
    }

    [Fact]
    public async Task An_update_with_an_unchanged_toasted_column_keeps_the_targets_value_and_never_writes_null()
    {
        await using var target = await fixture.NewTargetAsync("apply_toast", ItemsDdl);
        var source = new FakeChangeSource();
        var items = Table(Items);
        var big = new string('t', 5000);
        source.Commit(Insert(items, "1", "a", big), Insert(items, "2", "b", big + "2"));
        // body is NOT NULL: an upsert writing NULL (or an INSERT with the column left out) would fail or blank it.
        var last = source.Commit(Update(items, ["1"], "1", "renamed", Unchanged), Update(items, ["2"], "2", null, Unchanged));

        await target.RunAsync(source, [Items], new ReplicationOptions { StopAt = last.ToString() });

        Assert.Equal($"renamed|{big}", await target.ScalarAsync<string>("SELECT name || '|' || body FROM app.items WHERE id = 1"));
        Assert.Equal($"null|{big}2", await target.ScalarAsync<string>("SELECT coalesce(name, 'null') || '|' || body FROM app.items WHERE id = 2"));
    }

    [Fact]
    public async Task An_unchanged_column_is_filled_from_the_old_row_when_the_source_sent_it()
    {
        await using var target = await fixture.NewTargetAsync("apply_toast_old", ItemsDdl);
        var source = new FakeChangeSource();
        var items = Table(Items);
        source.Commit(Insert(items, "1", "a", "stale on target"));
        // Under REPLICA IDENTITY FULL the old row carries the TOASTed value: it is written, so the row is whole again.
        var last = source.Commit(Update(items, ["1"], "1", "b", Unchanged) with { Old = Image("1", "a", "from the old row") });

        await target.RunAsync(source, [Items], new ReplicationOptions { StopAt = last.ToString() });

        Assert.Equal("(1,b,\"from the old row\")", await target.RowsAsync("app.items", "id"));
    }

    [Fact]
    public async Task A_primary_key_change_moves_the_row_with_and_without_unchanged_columns()
    {
        await using var target = await fixture.NewTargetAsync("apply_pk", ItemsDdl);
        var source = new FakeChangeSource();
        var items = Table(Items);
        source.Commit(Insert(items, "1", "a", "x"), Insert(items, "2", "b", "y"));
        var last = source.Commit(
            Update(items, ["1"], "10", "a", "x") with { OldKey = ["1"] },
            Update(items, ["2"], "20", "b moved", Unchanged) with { OldKey = ["2"] },
            Insert(items, "1", "new one", "z"));

        await target.RunAsync(source, [Items], new ReplicationOptions { StopAt = last.ToString() });

        Assert.Equal("(1,\"new one\",z)\n(10,a,x)\n(20,\"b moved\",y)", await target.RowsAsync("app.items", "id"));
    }

    [Fact]
    public async Task A_truncate_empties_the_table_in_order_with_the_changes_around_it()
    {
        await using var target = await fixture.NewTargetAsync("apply_truncate", ItemsDdl);
        var source = new FakeChangeSource();
        var items = Table(Items);
        source.Commit(Insert(items, "1", "a", "x"), Insert(items, "2", "b", "y"));
        var last = source.Commit(Insert(items, "3", "c", "z"), new TruncateChange([Items.Source.Name], false), Insert(items, "4", "d", "w"));

        await target.RunAsync(source, [Items], new ReplicationOptions { StopAt = last.ToString() });

        Assert.Equal("(4,d,w)", await target.RowsAsync("app.items", "id"));
    }

    [Fact]
    public async Task A_refused_truncate_stops_the_stream_with_the_checkpoint_before_its_transaction()
    {
        await using var target = await fixture.NewTargetAsync("apply_truncate_refused", ItemsDdl);
        var source = new FakeChangeSource();
        var items = Table(Items);
        var first = source.Commit(Insert(items, "1", "a", "x"));
        source.Commit(Insert(items, "2", "b", "y"), new TruncateChange([Items.Source.Name], false));
        // One batch for both transactions: the complete first one is still committed when the second is refused.
        var options = new ReplicationOptions { Truncates = TruncateHandling.Refuse, Batch = ApplyBatchLimits.Default with { MaxDelay = TimeSpan.FromMinutes(1) } };

        var error = await Assert.ThrowsAsync<MoltException>(() => target.RunAsync(source, [Items], options));

        Assert.Equal("TruncateRefused", error.ErrorId);
        Assert.Contains("app.items", error.Message);
        Assert.Equal("(1,a,x)", await target.RowsAsync("app.items", "id"));
        Assert.Equal(first.ToString(), await target.ScalarAsync<string>("SELECT position FROM _molt.replication_checkpoints"));
        Assert.Equal("Failed", await target.ScalarAsync<string>("SELECT state FROM _molt.replication_streams"));
    }

    [Fact]
    public async Task A_keyless_replica_identity_full_table_is_matched_by_every_value_one_row_at_a_time()
    {
        var plan = Plan("public", "log", [], ("at", "timestamp with time zone"), ("msg", "text"), ("doc", "json"), ("n", "numeric"));
        await using var target = await fixture.NewTargetAsync("apply_keyless", "CREATE TABLE log (at timestamptz, msg text, doc json, n numeric)");
        var source = new FakeChangeSource();
        var log = Table(plan, full: true);
        const string at = "2024-05-01 10:00:00+00";
        source.Commit(Insert(log, at, "dup", "{\"a\": 1}", "1.50"), Insert(log, at, "dup", "{\"a\": 1}", "1.50"), Insert(log, null, null, null, null),
            Insert(log, null, null, null, null));
        // Duplicates: each delete and update takes exactly one of them; NULLs match NULLs; json (no = operator) matches as text.
        var last = source.Commit(
            new RowChange(log, RowChangeKind.Delete) { Key = [at, "dup", "{\"a\": 1}", "1.50"] },
            new RowChange(log, RowChangeKind.Update) { Key = [null, null, null, null], New = Image(at, "filled", "[]", "2") },
            Insert(log, at, "dup", "{\"a\": 1}", "1.5"));

        await target.RunAsync(source, [plan], new ReplicationOptions { StopAt = last.ToString() });

        Assert.Equal(
            "(\"2024-05-01 10:00:00+00\",dup,\"{\"\"a\"\": 1}\",1.5)\n(\"2024-05-01 10:00:00+00\",dup,\"{\"\"a\"\": 1}\",1.50)\n(\"2024-05-01 10:00:00+00\",filled,[],2)\n(,,,)",
            await target.RowsAsync("log", "msg NULLS LAST, n::text"));
    }

    [Fact]
    public async Task Text_values_are_read_by_the_target_columns_own_types()
    {
        var plan = Plan("public", "typed", ["id"], ("id", "bigint"), ("ts", "timestamp with time zone"), ("b", "bytea"), ("a", "integer[]"), ("j", "jsonb"),
            ("iv", "interval"), ("u", "uuid"), ("flag", "boolean"));
        await using var target = await fixture.NewTargetAsync("apply_types",
            "CREATE TABLE typed (id bigint PRIMARY KEY, ts timestamptz, b bytea, a int[], j jsonb, iv interval, u uuid, flag boolean)");
        var source = new FakeChangeSource();
        var typed = Table(plan);
        // The text PostgreSQL's output functions (pgoutput's text format) give for each type.
        source.Commit(Insert(typed, "9223372036854775807", "2024-02-29 23:59:59.999999+05:30", "\\x00ff10", "{1,NULL,3}", "{\"b\": [1, 2], \"a\": null}",
            "1 year 2 mons 3 days 04:05:06.7", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "t"));
        var last = source.Commit(Delete(typed, "9223372036854775807"), Insert(typed, "-1", null, null, null, null, null, null, "f"));

        await target.RunAsync(source, [plan], new ReplicationOptions { StopAt = last.ToString() });

        Assert.Equal("(-1,,,,,,,f)", await target.RowsAsync("typed", "id"));
        source = new FakeChangeSource();
        var again = source.Commit(Insert(typed, "1", "2024-02-29 23:59:59.999999+05:30", "\\x00ff10", "{1,NULL,3}", "{\"b\": [1, 2], \"a\": null}",
            "1 year 2 mons 3 days 04:05:06.7", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "t"));
        await target.RunAsync(source, [plan], new ReplicationOptions { StopAt = again.ToString() }, fetchId: "f2");
        Assert.Equal("2024-02-29 18:29:59.999999+00|\\x00ff10|{1,NULL,3}|{\"a\": null, \"b\": [1, 2]}|1 year 2 mons 3 days 04:05:06.7|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|t",
            await target.ScalarAsync<string>("SELECT concat_ws('|', ts, b, a, j, iv, u, flag) FROM typed WHERE id = 1"));
    }

    [Fact]
    public async Task Statements_of_several_tables_pipelined_in_one_round_trip_apply_in_order_and_a_refused_one_is_named_with_its_table()
    {
        var notes = Plan("app", "notes", ["id"], ("id", "integer"), ("item", "integer"), ("n", "integer"));
        await using var target = await fixture.NewTargetAsync("apply_pipelined",
            ItemsDdl + " CREATE TABLE app.notes (id integer PRIMARY KEY, item integer NOT NULL REFERENCES app.items (id), n integer CHECK (n >= 0));");
        var source = new FakeChangeSource();
        var (items, noteRows) = (Table(Items), Table(notes));
        // Every change switches table, as pgbench's transactions do: the foreign key holds only if the order is kept.
        source.Commit(Insert(items, "1", "a", "x"), Insert(noteRows, "1", "1", "0"), Insert(items, "2", "b", "y"), Insert(noteRows, "2", "2", "0"),
            Update(noteRows, ["1"], "1", "1", "1"), Delete(noteRows, "2"), Delete(items, "2"));
        var applied = source.Commit(Insert(items, "3", "c", "z"), Update(noteRows, ["1"], "1", "3", "2"));

        await target.RunAsync(source, [Items, notes], new ReplicationOptions { StopAt = applied.ToString() });
        Assert.Equal("(1,a,x)\n(3,c,z)", await target.RowsAsync("app.items", "id"));
        Assert.Equal("(1,3,2)", await target.RowsAsync("app.notes", "id"));

        var refused = source.Commit(Insert(items, "4", "d", "w"), Insert(noteRows, "4", "4", "-1"), Insert(items, "5", "e", "v"));
        var error = await Assert.ThrowsAsync<MoltException>(() => target.RunAsync(source, [Items, notes], new ReplicationOptions { StopAt = refused.ToString() }));

        Assert.Equal(("ApplyFailed", "app.notes"), (error.ErrorId, error.Target));
        Assert.Contains("upserting 1 row(s) into app.notes", error.Message);
        Assert.Equal("(1,a,x)\n(3,c,z)", await target.RowsAsync("app.items", "id"));
        Assert.Equal(applied.ToString(), await target.ScalarAsync<string>("SELECT position FROM _molt.replication_checkpoints"));
    }
}
