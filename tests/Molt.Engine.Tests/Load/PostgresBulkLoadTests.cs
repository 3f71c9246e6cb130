using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.State;

namespace Molt.Engine.Tests.Load;

[Collection(PostgresSourceCollection.Name)]
public sealed class PostgresBulkLoadTests(PostgresSourceFixture fixture)
{
    private static readonly BulkLoadOptions Recreate = new() { TableHandling = TableHandling.DropAndRecreate };

    [Fact]
    public async Task PagilaArrivesWholeAndEveryTableMatchesTheSource()
    {
        var target = await fixture.NewDatabaseAsync("pagila_copy");
        var (plan, summary, tables, _) = await LoadHarness.LoadAsync(Uri("pagila"), Uri(target), Recreate with { ShardsPerTable = 3, MinRowsPerShard = 1 });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Empty(summary.FailedTables);
        Assert.Equal(plan.Tables.Count, tables.Count);
        Assert.Matches(@"^[0-9A-F]+/[0-9A-F]+$", RecordedPosition.Of(summary.SnapshotPosition!).Value);
        Assert.Contains(tables, t => t.Table == new TableName("public", "rental") && t.Shards == 3);
        foreach (var table in plan.Tables)
        {
            var name = $"{Quote(table.Plan.Source.Name.Schema)}.{Quote(table.Plan.Source.Name.Name)}";
            Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, "pagila", name), await LoadHarness.DigestAsync(fixture.Server, target, name));
        }

        Assert.Equal(await Count("pagila", "public.payment"), tables.Single(t => t.Table.Name == "payment").Rows);
        // Secondary indexes and foreign keys came after the data.
        Assert.True(await fixture.Server.ScalarAsync<long>(target,
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'public.film_actor'::regclass") >= 2);
        Assert.True(await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_indexes WHERE tablename = 'rental'") >= 3);
        // Everything Pagila declares was recreated: nothing was recorded as untranslated or failed.
        Assert.Equal("", await fixture.Server.ScalarAsync<string>(target, "SELECT coalesce(string_agg(message, ' | '), '') FROM _molt.fetch_exceptions"));
        Assert.Equal(await fixture.Server.ScalarAsync<long>("pagila", "SELECT max(actor_id) + 1 FROM actor"),
            await fixture.Server.ScalarAsync<long>(target, "SELECT nextval(pg_get_serial_sequence('public.actor', 'actor_id'))"));
        // State: a succeeded run and every shard done.
        Assert.Equal("succeeded", await fixture.Server.ScalarAsync<string>(target, $"SELECT status FROM _molt.fetch_runs WHERE fetch_id = '{summary.FetchId}'"));
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_shards WHERE status <> 'done'"));
    }

    [Fact]
    public async Task ADeferredPrimaryKeyIsBuiltOnceEachTableIsInAndBeforeItsForeignKeys()
    {
        var target = await fixture.NewDatabaseAsync("pagila_deferred");
        var (plan, summary, _, _) = await LoadHarness.LoadAsync(Uri("pagila"), Uri(target), Recreate with { DeferPrimaryKey = true, ShardsPerTable = 2 });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        var rental = plan.Tables.Single(t => t.Plan.Source.Name.Name == "rental");
        Assert.DoesNotContain("PRIMARY KEY", rental.PreLoad[^1]);
        Assert.Contains("ADD PRIMARY KEY (\"rental_id\")", rental.PrimaryKeyAfterLoad);
        foreach (var table in plan.Tables)
        {
            var name = $"{Quote(table.Plan.Source.Name.Schema)}.{Quote(table.Plan.Source.Name.Name)}";
            Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, "pagila", name), await LoadHarness.DigestAsync(fixture.Server, target, name));
        }

        const string keys = "SELECT string_agg(conrelid::regclass::text || ' ' || pg_get_constraintdef(oid), '; ' ORDER BY conrelid::regclass::text) FROM pg_constraint WHERE contype = 'p' AND connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE 'payment_p%'";
        Assert.Equal(await fixture.Server.ScalarAsync<string>("pagila", keys), await fixture.Server.ScalarAsync<string>(target, keys));
        Assert.Equal("", await fixture.Server.ScalarAsync<string>(target, "SELECT coalesce(string_agg(message, ' | '), '') FROM _molt.fetch_exceptions"));

        // A resumed run may find a key already there: adding it again changes nothing.
        await fixture.Server.ExecuteAsync(target, rental.PrimaryKeyAfterLoad!);
        Assert.Equal(1L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid = 'public.rental'::regclass"));
    }

    [Fact]
    public async Task ADeferredPrimaryKeyNeedsTablesMoltCreates()
    {
        var error = await Assert.ThrowsAsync<MoltException>(() =>
            LoadHarness.LoadAsync(Uri("pagila"), Uri("postgres"), new BulkLoadOptions { DeferPrimaryKey = true }));
        Assert.Equal(("DeferPrimaryKeyNeedsRecreate", MoltErrorKind.InvalidArgument), (error.ErrorId, error.Kind));
    }

    [Fact]
    public async Task EveryTypeRoundTripsWithNullsAndExtremes()
    {
        var source = await fixture.NewDatabaseAsync("torture_src");
        await fixture.Server.ExecuteAsync(source, $$$"""
            {{{TortureTables.Postgres}}}
            INSERT INTO "Torture Table" VALUES
              (1, 32767, 2147483647, 9223372036854775807, 1234567890123456789012345678.0123456789, 1e-30, 3.4e38, 1.7976931348623157e308,
               92233720368547758.07, 'héllo 😀 "quoted" \ back', 'x', 'ab', 'Case', '\x00ff00'::bytea, true, '4713-01-01 BC', '23:59:59.999999',
               '12:00+05:30', '294276-12-31 23:59:59.999999', '1970-01-01 00:00:00+00', '-178000000 years', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
               '{"a": [1, 2]}', '{"b": {"c": null}}', '<a>x</a>', '::1', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'101', '{1,NULL,3}',
               '{"a b",NULL,""}', 'happy', 7, '[1,10)', '(1.5,-2)', 'a fat cat', 4294967295),
              (2, -32768, -2147483648, -9223372036854775808, -0.0000000001, 'NaN', '-Infinity', 'Infinity', -92233720368547758.08, '', '', '',
               NULL, ''::bytea, false, 'infinity', '00:00', '00:00-12', '-infinity', 'infinity', '0', '00000000-0000-0000-0000-000000000000',
               'null', '[]', '<b/>', '0.0.0.0', '::/0', 'ff:ff:ff:ff:ff:ff', B'0000', B'', '{}', '{}', 'sad', 1, 'empty', '(0,0)', '', 0),
              (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            """);
        var target = await fixture.NewDatabaseAsync("torture_dst");
        var (_, summary, tables, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate);

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(3, Assert.Single(tables).Rows);
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "public.\"Torture Table\""),
            await LoadHarness.DigestAsync(fixture.Server, target, "public.\"Torture Table\""));
        const string columns = "SELECT string_agg(column_name::text, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'Torture Table'";
        Assert.Equal(await fixture.Server.ScalarAsync<string>(source, columns), await fixture.Server.ScalarAsync<string>(target, columns));
        Assert.Equal("PRIMARY KEY (id)", await fixture.Server.ScalarAsync<string>(target,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '\"Torture Table\"'::regclass AND contype = 'p'"));
        Assert.Equal("mood", await fixture.Server.ScalarAsync<string>(target,
            "SELECT udt_name::text FROM information_schema.columns WHERE table_name = 'Torture Table' AND column_name = 'mo'"));
    }

    // An integer key is split by its bounds; a text key by its values in the source's collation, bounds that go through
    // the target's state as text (quotes and backslashes included) when the run resumes.
    [Theory]
    [InlineData("bigint", "g")]
    [InlineData("text", @"CASE g % 3 WHEN 0 THEN 'É' WHEN 1 THEN 'e''\' ELSE 'a' END || md5(g::text)")]
    public async Task CancelledLoadResumesWithoutDuplicatesOrGaps(string keyType, string key)
    {
        var source = await fixture.NewDatabaseAsync("resume_src");
        await fixture.Server.ExecuteAsync(source, $"""
            CREATE TABLE big (id {keyType} PRIMARY KEY, v text NOT NULL);
            INSERT INTO big SELECT {key}, repeat(md5(g::text), 8) FROM generate_series(1, 400000) g;
            CREATE TABLE small (id int PRIMARY KEY);
            INSERT INTO small SELECT generate_series(1, 10);
            ANALYZE;
            """);
        var target = await fixture.NewDatabaseAsync("resume_dst");
        var options = Recreate with { ShardsPerTable = 8, TableConcurrency = 1, FetchId = "resume-test" };
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target), options, cancel.Token,
            p => { if (p.Rows >= 50_000) cancel.Cancel(); }));

        Assert.Equal("interrupted", await fixture.Server.ScalarAsync<string>(target, "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'resume-test'"));
        Assert.Equal(8L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_shards WHERE source_table = 'public.big'"));
        var doneBefore = await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_shards WHERE status = 'done'");
        Assert.InRange(doneBefore, 0, 7);
        Assert.Equal(await fixture.Server.ScalarAsync<long>(target, "SELECT coalesce(sum(rows_loaded), 0)::bigint FROM _molt.fetch_shards WHERE status = 'done'"),
            await Count(target, "big"));

        var (_, summary, _, log) = await LoadHarness.LoadAsync(Uri(source), Uri(target), options with { Resume = true });
        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Contains(log, l => l.Contains($"{doneBefore} already done", StringComparison.Ordinal));
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "big"), await LoadHarness.DigestAsync(fixture.Server, target, "big"));
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "small"), await LoadHarness.DigestAsync(fixture.Server, target, "small"));
    }

    [Fact]
    public async Task ALostTargetConnectionFailsTheShardAndResumeFinishesIt()
    {
        var source = await fixture.NewDatabaseAsync("crash_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL);
            INSERT INTO events SELECT g, repeat('x', 200) FROM generate_series(1, 300000) g;
            ANALYZE;
            """);
        var target = await fixture.NewDatabaseAsync("crash_dst");
        var options = Recreate with { ShardsPerTable = 4, FetchId = "crash-test" };
        var killed = 0;
        var (_, failed, tables, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), options, progress: p =>
        {
            // The target loses the load's connections mid-copy, as when the machine running Molt dies.
            if (p.Rows >= 20_000 && Interlocked.Exchange(ref killed, 1) == 0)
            {
                fixture.Server.ExecuteAsync("postgres",
                    $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{target}' AND query LIKE 'COPY%'").GetAwaiter().GetResult();
            }
        });

        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Equal(TableLoadStatus.Failed, Assert.Single(tables).Status);
        Assert.True(await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_exceptions WHERE fetch_id = 'crash-test'") >= 1);

        var (_, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), options with { Resume = true });
        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "events"), await LoadHarness.DigestAsync(fixture.Server, target, "events"));
    }

    // PostgreSQL holds a run's claim as an advisory lock, CockroachDB as a row lock in an open transaction: the second,
    // with the Cockroach dialect forced, runs on PostgreSQL too.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AResumeOfARunStillGoingOnElsewhereIsRefusedAndTheRunFinishes(bool cockroach)
    {
        ITargetDialect? dialect = cockroach ? new CockroachDialect(MissingPrimaryKey.Refuse) : null;
        var source = await fixture.NewDatabaseAsync("lease_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL);
            INSERT INTO events SELECT g, md5(g::text) FROM generate_series(1, 100000) g;
            ANALYZE;
            """);
        var target = await fixture.NewDatabaseAsync("lease_dst");
        var options = Recreate with { ShardsPerTable = 2, FetchId = "lease-test" };
        Exception? second = null;
        string? statusDuringLoad = null;
        var (_, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), options, progress: _ =>
        {
            // While the first session is mid-copy, a second one tries to resume the same run.
            if (Interlocked.CompareExchange(ref second, new InvalidOperationException("pending"), null) is null)
            {
                second = Record.Exception(() =>
                    LoadHarness.LoadAsync(Uri(source), Uri(target), options with { Resume = true }, dialect: dialect).GetAwaiter().GetResult());
                statusDuringLoad = FetchStatusSession.ReadAsync(EndpointAddress.Parse(Uri(target)), "lease-test", CancellationToken.None)
                    .GetAwaiter().GetResult().Single().Run.Status;
            }
        }, dialect: dialect);

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        // The status reader asks the server the target is, so it checks a PostgreSQL claim: the forced dialect's row lock reads as abandoned.
        Assert.Equal(cockroach ? RunStatus.Abandoned : RunStatus.Running, statusDuringLoad);
        var refused = Assert.IsType<MoltException>(second);
        Assert.Equal(("FetchRunActive", MoltErrorKind.InUse), (refused.ErrorId, refused.Kind));
        Assert.Contains("pg_terminate_backend", refused.Remedy);
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "events"), await LoadHarness.DigestAsync(fixture.Server, target, "events"));
        // Once the first session is done, its claim is gone: a resume is told the run is finished, not that it is running.
        var finished = await Assert.ThrowsAsync<MoltException>(() =>
            LoadHarness.LoadAsync(Uri(source), Uri(target), options with { Resume = true }, dialect: dialect));
        Assert.Equal("FetchRunAlreadySucceeded", finished.ErrorId);
    }

    [Fact]
    public async Task AFilterThatMatchesNothingIsAClearErrorBeforeAnythingIsWritten()
    {
        var target = await fixture.NewDatabaseAsync("nomatch");
        var error = await Assert.ThrowsAsync<MoltException>(() =>
            LoadHarness.LoadAsync(Uri("pagila"), Uri(target), Recreate with { Filter = new TableFilter(tables: ["no_such_*"]) }));
        Assert.Equal("NoTablesMatched", error.ErrorId);
        Assert.Contains("-Table no_such_*", error.Message);
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'"));
    }

    [Fact]
    public async Task AnExistingTargetTableWithOtherColumnsIsRefusedUnderTableHandlingNone()
    {
        var target = await fixture.NewDatabaseAsync("mismatch");
        await fixture.Server.ExecuteAsync(target, "CREATE TABLE public.actor (actor_id int PRIMARY KEY, name text NOT NULL)");
        var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(Uri("pagila"), Uri(target),
            new BulkLoadOptions { Filter = new TableFilter(tables: ["actor", "category"]) }));
        Assert.Equal(MoltErrorKind.SchemaMismatch, error.Kind);
        Assert.Contains("public.actor lacks column(s) first_name, last_name, last_update", error.Message);
        Assert.Contains("public.actor has NOT NULL column(s) without default that the source does not have: name", error.Message);
        Assert.Contains("public.category does not exist", error.Message);
        Assert.Contains("-TableHandling DropAndRecreate", error.Remedy);
    }

    [Fact]
    public async Task ATypeWithoutMappingNamesTheColumnAndTheTypeMapEntryThatFixesIt()
    {
        var source = await fixture.NewDatabaseAsync("unmapped_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TYPE pair AS (a int, b text);
            CREATE TABLE holder (id int PRIMARY KEY, p pair);
            INSERT INTO holder VALUES (1, ROW(1, 'x'));
            """);
        var target = await fixture.NewDatabaseAsync("unmapped_dst");
        var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate));
        Assert.Equal(MoltErrorKind.UnsupportedType, error.Kind);
        Assert.Contains("public.holder.p", error.Message);
        Assert.Contains("\"column_type_map\"", error.Remedy);

        var typeMap = TypeMapOverrides.Parse("""[{"table": "public.holder", "column_type_map": [{"column": "p", "target_type": "text"}]}]""");
        var (_, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate with { TypeMap = typeMap });
        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal("(1,x)", await fixture.Server.ScalarAsync<string>(target, "SELECT p FROM holder"));
    }

    [Fact]
    public async Task ATableWithoutPrimaryKeyLoadsAsOneShardWithAWarning()
    {
        var source = await fixture.NewDatabaseAsync("nopk_src");
        await fixture.Server.ExecuteAsync(source, "CREATE TABLE log_lines (at timestamptz, line text); INSERT INTO log_lines SELECT now(), g::text FROM generate_series(1, 1000) g;");
        var target = await fixture.NewDatabaseAsync("nopk_dst");
        var (_, summary, tables, log) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate with { ShardsPerTable = 4 });
        Assert.Equal(RunStatus.Succeeded, summary.Status);
        var table = Assert.Single(tables);
        Assert.Equal(1, table.Shards);
        Assert.Equal(1000, table.Rows);
        Assert.Contains(log, l => l.StartsWith("Warning:", StringComparison.Ordinal) && l.Contains("no primary key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARowTheTargetRejectsIsRecordedWithItsKeyAndOtherTablesGoOn()
    {
        var source = await fixture.NewDatabaseAsync("reject_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
            INSERT INTO accounts SELECT g, CASE WHEN g = 777 THEN -5 ELSE g END FROM generate_series(1, 1000) g;
            CREATE TABLE notes (id int PRIMARY KEY, body text);
            INSERT INTO notes SELECT g, 'n' FROM generate_series(1, 50) g;
            """);
        var target = await fixture.NewDatabaseAsync("reject_dst");
        await fixture.Server.ExecuteAsync(target, """
            CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0));
            CREATE TABLE notes (id int PRIMARY KEY, body text);
            """);
        var (_, summary, tables, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), new BulkLoadOptions { FetchId = "reject-test", ShardsPerTable = 2 });

        Assert.Equal(RunStatus.Failed, summary.Status);
        Assert.Equal([new TableName("public", "accounts")], summary.FailedTables);
        Assert.Equal(TableLoadStatus.Succeeded, tables.Single(t => t.Table.Name == "notes").Status);
        Assert.Equal(50L, await Count(target, "notes"));
        var rowKey = await fixture.Server.ScalarAsync<string>(target, "SELECT row_key FROM _molt.fetch_exceptions WHERE fetch_id = 'reject-test' AND source_table = 'public.accounts'");
        Assert.Contains("777", rowKey);
        Assert.Equal("23514", await fixture.Server.ScalarAsync<string>(target, "SELECT sql_state FROM _molt.fetch_exceptions WHERE fetch_id = 'reject-test'"));
    }

    [Fact]
    public async Task RowFiltersAndAReplicationSlotSnapshotAreHonoured()
    {
        var target = await fixture.NewDatabaseAsync("filtered");
        var slot = $"molt_test_{Guid.NewGuid():N}"[..30];
        var (_, summary, tables, _) = await LoadHarness.LoadAsync(Uri("pagila"), Uri(target), Recreate with
        {
            Filter = new TableFilter(tables: ["rental"]),
            Where = new Dictionary<string, string> { ["public.rental"] = "customer_id < 100" },
        }, sourceOptions: new SourceOptions { ReplicationSlot = slot });
        try
        {
            Assert.Equal(await fixture.Server.ScalarAsync<long>("pagila", "SELECT count(*) FROM rental WHERE customer_id < 100"), Assert.Single(tables).Rows);
            Assert.Equal(await fixture.Server.ScalarAsync<string>("pagila", $"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '{slot}'"),
                RecordedPosition.Of(summary.SnapshotPosition!).Value);
        }
        finally
        {
            await fixture.Server.ExecuteAsync("pagila", $"SELECT pg_drop_replication_slot('{slot}')");
        }
    }

    [Fact]
    public async Task TheSummarysDurationIsTheWholeRunWithItsPlanning()
    {
        var source = await fixture.NewDatabaseAsync("duration_src");
        var target = await fixture.NewDatabaseAsync("duration_dst");
        await fixture.Server.ExecuteAsync(source, "CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 100) g");

        // Planning reads the table's size, which waits for this lock: the load is known to plan for at least as long as
        // it is held once the planner is seen waiting for it.
        await using var holder = new Npgsql.NpgsqlConnection(fixture.Server.ConnectionString(source));
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var lockItems = new Npgsql.NpgsqlCommand("LOCK TABLE items IN ACCESS EXCLUSIVE MODE", holder, transaction))
        {
            await lockItems.ExecuteNonQueryAsync();
        }

        var wall = System.Diagnostics.Stopwatch.StartNew();
        var load = LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate);
        var waitedFor = $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{source}' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()";
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await fixture.Server.ScalarAsync<long>(source, waitedFor) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the planner never waited for the lock");
            Assert.False(load.IsCompleted, "the load finished without waiting for the lock");
            await Task.Delay(50);
        }

        var held = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(3));
        await transaction.RollbackAsync();
        held.Stop();
        var (_, summary, _, _) = await load;
        wall.Stop();

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        var copying = summary.Phases.Single(p => p.Name == "tables (wall)").Duration;
        Assert.True(summary.Duration >= held.Elapsed + copying, $"Duration {summary.Duration} excludes the {held.Elapsed} the planner waited");
        Assert.True(summary.Duration <= wall.Elapsed, $"Duration {summary.Duration} is longer than the {wall.Elapsed} the load took");
    }

    private string Uri(string database) => fixture.Server.ConnectionUri(database);

    private async Task<long> Count(string database, string table) => await fixture.Server.ScalarAsync<long>(database, $"SELECT count(*) FROM {table}");

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
}
