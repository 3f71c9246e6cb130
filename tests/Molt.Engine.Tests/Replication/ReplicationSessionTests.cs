using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.State;

namespace Molt.Engine.Tests.Replication;

/// <summary>Start, stop, resume and remove end to end: a real PostgreSQL source (logical decoding) into a real PostgreSQL target.</summary>
[Collection(ApplyTargetCollection.Name)]
public sealed class ReplicationSessionTests(ApplyTargetFixture fixture)
{
    private const string SourceSchema = """
        CREATE SCHEMA shop;
        CREATE TABLE shop.items (id int PRIMARY KEY, name text NOT NULL, body text);
        CREATE TABLE shop.notes (n int, note text);
        ALTER TABLE shop.notes REPLICA IDENTITY FULL;
        -- The same table name in another schema.
        CREATE TABLE public.items (id int PRIMARY KEY, v text);
        INSERT INTO shop.items SELECT g, 'item ' || g, repeat(md5(g::text), 100) FROM generate_series(1, 200) g;
        INSERT INTO shop.notes VALUES (1, 'a'), (1, 'a'), (2, 'b');
        INSERT INTO public.items VALUES (1, 'public one');
        """;

    private const string Rows = """
        SELECT concat_ws(E'\n',
            (SELECT string_agg(concat_ws(',', id, name, md5(coalesce(body, ''))), ';' ORDER BY id) FROM shop.items),
            (SELECT string_agg(concat_ws(',', n, note), ';' ORDER BY n, note) FROM shop.notes),
            (SELECT string_agg(concat_ws(',', id, v), ';' ORDER BY id) FROM public.items))
        """;

    [Fact]
    public async Task A_stream_started_with_its_load_is_stopped_at_the_cutover_resumed_with_nothing_twice_and_removed_with_its_slot()
    {
        var server = fixture.Server;
        var sourceDb = $"e2e_src_{Guid.NewGuid():N}"[..20];
        await server.CreateDatabaseAsync(sourceDb);
        await server.ExecuteAsync(sourceDb, SourceSchema);
        await using var target = await fixture.NewTargetAsync("e2e_dst", "SELECT 1");
        var sourceAddress = EndpointAddress.Parse(server.ConnectionUri(sourceDb));
        var targetAddress = EndpointAddress.Parse(server.ConnectionUri(target.Database));
        var options = new ReplicationOptions
        {
            FetchId = "e2e",
            Load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate },
            StatusInterval = TimeSpan.FromMilliseconds(200),
        };
        using var log = MoltLogSession.None();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var states = new List<ReplicationState>();
        BulkLoadSummary? loaded = null;

        ReplicationStatus stopped;
        await using (var session = await ReplicationSession.OpenAsync(sourceAddress, targetAddress, options, log, timeout.Token))
        {
            var plan = await session.PlanAsync(timeout.Token);
            var running = session.StartAsync(plan, new BulkLoadCallbacks(), summary => loaded = summary, new StateReports(states), timeout.Token);
            await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(states.Contains(ReplicationState.Streaming) || running.IsCompleted));
            Assert.False(running.IsFaulted, running.Exception?.ToString());
            Assert.Equal(RunStatus.Succeeded, loaded!.Status);

            // Written while streaming: every change kind, a TOASTed column left alone, a key change, keyless duplicates.
            await server.ExecuteAsync(sourceDb, """
                INSERT INTO shop.items VALUES (1000, 'new', repeat('x', 3000));
                UPDATE shop.items SET name = 'renamed' WHERE id BETWEEN 1 AND 50;
                UPDATE shop.items SET id = 5000 WHERE id = 60;
                DELETE FROM shop.items WHERE id BETWEEN 100 AND 110;
                DELETE FROM shop.notes WHERE ctid = (SELECT ctid FROM shop.notes WHERE n = 1 LIMIT 1);
                UPDATE shop.notes SET note = 'B' WHERE n = 2;
                INSERT INTO public.items VALUES (2, 'public two');
                BEGIN; INSERT INTO shop.notes VALUES (3, 'in one transaction'); UPDATE public.items SET v = 'changed' WHERE id = 1; COMMIT;
                """);
            await ReplicationControl.RequestStopAsync(targetAddress, "e2e", immediately: false, timeout.Token);
            stopped = await running;
        }

        Assert.Equal(ReplicationState.Stopped, stopped.State);
        Assert.Equal(await server.ScalarAsync<string>(sourceDb, Rows), await target.ScalarAsync<string>(Rows));
        Assert.IsType<PostgresLsn>(stopped.TargetPosition);
        Assert.Equal(stopped with { At = default }, (await ReplicationControl.WaitForStopAsync(targetAddress, "e2e", TimeSpan.FromSeconds(5), timeout.Token)) with
        {
            At = default, Rate = stopped.Rate, LagSeconds = stopped.LagSeconds, HeldBy = stopped.HeldBy, Checkpoint = stopped.Checkpoint,
        });

        // Writes while nothing streams, then a Resume that stops when caught up: applied once, from the checkpoint.
        await server.ExecuteAsync(sourceDb, """
            INSERT INTO shop.notes VALUES (4, 'while stopped'), (4, 'while stopped');
            UPDATE shop.items SET body = NULL WHERE id = 1000;
            TRUNCATE public.items;
            INSERT INTO public.items VALUES (9, 'after truncate');
            """);
        ReplicationStatus resumed;
        await using (var session = await ReplicationSession.OpenAsync(sourceAddress, targetAddress, options with { StopWhenCaughtUp = true }, log, timeout.Token))
        {
            resumed = await session.ResumeAsync(null, timeout.Token);
        }

        Assert.Equal(await server.ScalarAsync<string>(sourceDb, Rows), await target.ScalarAsync<string>(Rows));
        Assert.True(resumed.Transactions > stopped.Transactions);
        Assert.Equal(resumed.SourcePosition!.ToString(), await target.ScalarAsync<string>("SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'e2e'"));

        var removed = await ReplicationControl.RemoveAsync(sourceAddress, targetAddress, "e2e", null, null, timeout.Token);
        Assert.Equal((true, true), removed);
        Assert.Equal(0, await server.ScalarAsync<long>(sourceDb, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'molt_e2e'"));
        var status = Assert.Single(await ReplicationControl.ReadStatusAsync(targetAddress, null, timeout.Token));
        Assert.Equal((ReplicationState.Stopped, (string?)null), (status.State, status.Slot));
    }

    [Fact]
    public async Task The_type_torture_rows_streamed_are_identical_on_the_target_to_the_same_rows_loaded()
    {
        var server = fixture.Server;
        var sourceDb = $"e2e_torture_{Guid.NewGuid():N}"[..24];
        await server.CreateDatabaseAsync(sourceDb);
        await server.ExecuteAsync(sourceDb, TortureTables.Postgres + TortureTables.PostgresRows);
        await using var target = await fixture.NewTargetAsync("e2e_torture_dst", "SELECT 1");
        var targetAddress = EndpointAddress.Parse(server.ConnectionUri(target.Database));
        var options = new ReplicationOptions { FetchId = "torture", Load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate } };
        using var log = MoltLogSession.None();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var states = new List<ReplicationState>();
        await using var session = await ReplicationSession.OpenAsync(EndpointAddress.Parse(server.ConnectionUri(sourceDb)), targetAddress, options, log, timeout.Token);
        var running = session.StartAsync(await session.PlanAsync(timeout.Token), new BulkLoadCallbacks(), _ => { }, new StateReports(states), timeout.Token);
        await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(states.Contains(ReplicationState.Streaming) || running.IsCompleted));

        // The same values again, now through the stream: inserted, and updated onto rows first inserted empty.
        const string columns = """s, i, b, n, nu, r, d, m, t, vc, c, "MixedCase", by, bo, da, ti, tz, ts, tstz, iv, u, j, jb, x, inet_, cidr_, mac, bi, vb, ia, ta, mo, po, i4r, pt, tsv, ol""";
        await server.ExecuteAsync(sourceDb, $"""
            INSERT INTO "Torture Table" SELECT id + 100, {columns} FROM "Torture Table";
            INSERT INTO "Torture Table" (id) SELECT id + 200 FROM "Torture Table" WHERE id < 100;
            UPDATE "Torture Table" t SET ({columns}) = (SELECT {columns} FROM "Torture Table" o WHERE o.id = t.id - 200) WHERE t.id > 200;
            """);
        await ReplicationControl.RequestStopAsync(targetAddress, "torture", immediately: false, timeout.Token);
        await running;

        const string copy = """SELECT string_agg((to_jsonb(torture_row) - 'id')::text, E'\n' ORDER BY id) FROM "Torture Table" torture_row WHERE id / 100 = """;
        var loaded = await target.ScalarAsync<string>(copy + "0");
        Assert.Equal(await server.ScalarAsync<string>(sourceDb, copy + "0"), loaded);
        Assert.Equal(loaded, await target.ScalarAsync<string>(copy + "1"));
        Assert.Equal(loaded, await target.ScalarAsync<string>(copy + "2"));
    }

    [Fact]
    public async Task A_load_made_with_a_replication_slot_is_resumed_as_a_stream_from_the_loads_position()
    {
        var server = fixture.Server;
        var sourceDb = $"e2e_slot_{Guid.NewGuid():N}"[..20];
        await server.CreateDatabaseAsync(sourceDb);
        await server.ExecuteAsync(sourceDb, SourceSchema);
        await using var target = await fixture.NewTargetAsync("e2e_slot_dst", "SELECT 1");
        var sourceAddress = EndpointAddress.Parse(server.ConnectionUri(sourceDb));
        var targetAddress = EndpointAddress.Parse(server.ConnectionUri(target.Database));
        using var log = MoltLogSession.None();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, FetchId = "slotload" };
        await using (var bulk = await BulkLoadSession.OpenAsync(sourceAddress, targetAddress, load, new SourceOptions { ReplicationSlot = "molt_slotload" }, log,
                         timeout.Token))
        {
            Assert.Equal(RunStatus.Succeeded, (await bulk.ExecuteAsync(await bulk.PlanAsync(timeout.Token), new BulkLoadCallbacks(), timeout.Token)).Status);
        }

        // Committed after the slot's snapshot, before any stream: sent by the slot, applied once.
        await server.ExecuteAsync(sourceDb, """
            UPDATE shop.items SET name = 'after the load' WHERE id <= 10;
            INSERT INTO shop.notes VALUES (1, 'a');
            DELETE FROM public.items;
            """);
        ReplicationStatus resumed;
        await using (var session = await ReplicationSession.OpenAsync(sourceAddress, targetAddress,
                         new ReplicationOptions { FetchId = "slotload", StopWhenCaughtUp = true }, log, timeout.Token))
        {
            Assert.Equal("molt_slotload", session.Slot);
            resumed = await session.ResumeAsync(null, timeout.Token);
        }

        Assert.Equal(await server.ScalarAsync<string>(sourceDb, Rows), await target.ScalarAsync<string>(Rows));
        Assert.Equal((10L, 1L, 1L), (resumed.Updates, resumed.Inserts, resumed.Deletes));
        await ReplicationControl.RemoveAsync(sourceAddress, targetAddress, "slotload", null, null, timeout.Token);
    }

    [Fact]
    public async Task A_column_added_on_the_source_stops_the_stream_with_its_checkpoint_intact_and_resume_goes_on_once_the_target_has_it()
    {
        var server = fixture.Server;
        var sourceDb = $"e2e_ddl_{Guid.NewGuid():N}"[..20];
        await server.CreateDatabaseAsync(sourceDb);
        await server.ExecuteAsync(sourceDb, SourceSchema);
        await using var target = await fixture.NewTargetAsync("e2e_ddl_dst", "SELECT 1");
        var sourceAddress = EndpointAddress.Parse(server.ConnectionUri(sourceDb));
        var targetAddress = EndpointAddress.Parse(server.ConnectionUri(target.Database));
        var options = new ReplicationOptions { FetchId = "ddl", Load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate } };
        using var log = MoltLogSession.None();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var states = new List<ReplicationState>();
        var error = await Assert.ThrowsAsync<SourceTableChangedException>(async () =>
        {
            await using var session = await ReplicationSession.OpenAsync(sourceAddress, targetAddress, options, log, timeout.Token);
            var running = session.StartAsync(await session.PlanAsync(timeout.Token), new BulkLoadCallbacks(), _ => { }, new StateReports(states), timeout.Token);
            await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(states.Contains(ReplicationState.Streaming) || running.IsCompleted));
            // Three transactions: the change stops the stream between the first and the third.
            await server.ExecuteAsync(sourceDb, "INSERT INTO public.items VALUES (2, 'before the change')");
            await server.ExecuteAsync(sourceDb, "ALTER TABLE public.items ADD COLUMN extra int");
            await server.ExecuteAsync(sourceDb, "INSERT INTO public.items VALUES (3, 'after the change', 42)");
            await running;
        });

        Assert.Equal("SchemaChanged", error.ErrorId);
        Assert.Contains("public.items", error.Message);
        Assert.Equal("(1,\"public one\")\n(2,\"before the change\")", await target.RowsAsync("public.items", "id"));
        Assert.Equal(ReplicationState.Failed, Assert.Single(await ReplicationControl.ReadStatusAsync(targetAddress, "ddl", timeout.Token)).State);

        await target.ExecuteAsync("ALTER TABLE public.items ADD COLUMN extra int");
        await using (var session = await ReplicationSession.OpenAsync(sourceAddress, targetAddress, options with { StopWhenCaughtUp = true }, log, timeout.Token))
        {
            await session.ResumeAsync(null, timeout.Token);
        }

        Assert.Equal("(1,\"public one\",)\n(2,\"before the change\",)\n(3,\"after the change\",42)", await target.RowsAsync("public.items", "id"));
        await ReplicationControl.RemoveAsync(sourceAddress, targetAddress, "ddl", null, null, timeout.Token);
    }
}
