using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.State;

namespace Molt.Engine.Tests.Load;

/// <summary>-Resume continues the run recorded in the target, and a run's final status says whether all of it is in.</summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class ResumeTests(PostgresSourceFixture fixture)
{
    private static readonly BulkLoadOptions Recreate = new() { TableHandling = TableHandling.DropAndRecreate };

    [Fact]
    public async Task AResumeThatGivesNoSelectionContinuesTheRecordedTablesFilterAndHandling()
    {
        var source = await fixture.NewDatabaseAsync("bare_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL);
            INSERT INTO big SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 300000) g;
            CREATE TABLE small (id int PRIMARY KEY);
            INSERT INTO small SELECT generate_series(1, 10);
            CREATE TABLE other (id int PRIMARY KEY);
            INSERT INTO other SELECT generate_series(1, 5);
            ANALYZE;
            """);
        var target = await fixture.NewDatabaseAsync("bare_dst");
        var first = Recreate with
        {
            FetchId = "bare", ShardsPerTable = 6, TableConcurrency = 1, Filter = new TableFilter(tables: ["big", "small"]),
            Where = new Dictionary<string, string> { ["public.big"] = "id % 2 = 0" },
        };
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target), first, cancel.Token,
            p => { if (p.Rows >= 20_000) cancel.Cancel(); }));

        var (_, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), BareResume("bare"));

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(150_000L, await Count(target, "big"));
        Assert.Equal(0L, await Count(target, "big WHERE id % 2 = 1"));
        Assert.Equal(10L, await Count(target, "small"));
        Assert.Null(await fixture.Server.ScalarAsync<string>(target, "SELECT to_regclass('public.other')::text"));
    }

    [Fact]
    public async Task AResumeThatNamesADifferentSelectionIsRefusedBeforeAnythingIsWritten()
    {
        var (source, target) = await FailedRunAsync("differs");
        var shardsBefore = await ShardStates(target);
        var variants = new (string Name, BulkLoadOptions Options, string Recorded)[]
        {
            ("tables", Resume("differs") with { Filter = new TableFilter(tables: ["accounts"]) }, "public.accounts, public.notes"),
            ("handling", Resume("differs") with { TableHandling = TableHandling.TruncateIfExists }, "None"),
            ("where", Resume("differs") with { Where = new Dictionary<string, string> { ["public.notes"] = "id <= 10" } }, "id <= 40"),
            ("type map", Resume("differs") with
            {
                TypeMap = TypeMapOverrides.Parse("""[{"table": "public.notes", "column_type_map": [{"column": "body", "target_type": "text"}]}]"""),
            }, "(none)"),
            ("target schema", Resume("differs") with { TargetSchema = "elsewhere" }, "public"),
        };
        foreach (var (name, options, recorded) in variants)
        {
            var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target), options));
            Assert.True(error.ErrorId == "ResumeSelectionDiffers", $"{name}: {error.ErrorId}: {error.Message}");
            Assert.Equal(MoltErrorKind.InvalidArgument, error.Kind);
            Assert.Contains(recorded, error.Message);
            Assert.Contains("-Resume", error.Remedy);
        }

        // Nothing was written: the rows, the run and its shards are as the failed run left them.
        Assert.Equal(40L, await Count(target, "notes"));
        Assert.Equal(RunStatus.Failed, await fixture.Server.ScalarAsync<string>(target, "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'differs'"));
        Assert.Equal(shardsBefore, await ShardStates(target));

        // The same selection, spelled otherwise, continues the run.
        await fixture.Server.ExecuteAsync(target, "ALTER TABLE accounts DROP CONSTRAINT accounts_balance_check");
        var (_, summary, tables, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Resume("differs") with
        {
            Filter = new TableFilter(tables: ["acc*", "public.notes"]),
            Where = new Dictionary<string, string> { ["PUBLIC.NOTES"] = "id <= 40" },
        });
        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(1000L, await Count(target, "accounts"));
        Assert.Equal(40L, await Count(target, "notes"));
    }

    [Fact]
    public async Task TablesDeclinedAtConfirmLeaveTheRunUnfinishedAndAreReportedPendingNotFailed()
    {
        var source = await fixture.NewDatabaseAsync("declined_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE kept (id int PRIMARY KEY);
            INSERT INTO kept SELECT generate_series(1, 100);
            CREATE TABLE declined (id int PRIMARY KEY);
            INSERT INTO declined SELECT generate_series(1, 7);
            """);
        var target = await fixture.NewDatabaseAsync("declined_dst");
        var options = Recreate with { FetchId = "declined" };
        var (_, summary, tables, log) = await LoadHarness.LoadAsync(Uri(source), Uri(target), options,
            approve: plan => plan with { Tables = plan.Tables.Where(t => t.Plan.Source.Name.Name == "kept").ToList() });

        Assert.Equal(TableLoadStatus.Succeeded, Assert.Single(tables).Status);
        Assert.Equal(RunStatus.Failed, summary.Status);
        Assert.Empty(summary.FailedTables);
        Assert.Equal([new TableName("public", "declined")], summary.PendingTables);
        Assert.Contains(log, l => l.StartsWith("Warning:", StringComparison.Ordinal) && l.Contains("public.declined", StringComparison.Ordinal)
            && l.Contains("-FetchId 'declined' -Resume", StringComparison.Ordinal));
        Assert.Equal(RunStatus.Failed, await fixture.Server.ScalarAsync<string>(target, "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'declined'"));
        // Get-MoltFetchStatus reads the same: a declined table has no shards, and is pending all the same.
        var report = Assert.Single(await FetchStatusSession.ReadAsync(EndpointAddress.Parse(Uri(target)), "declined", CancellationToken.None));
        Assert.Equal(["public.declined", "public.kept"], report.Tables);
        Assert.Equal(["public.declined"], report.PendingTables);
        Assert.Empty(report.FailedTables);

        var (_, resumed, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), BareResume("declined"));
        Assert.Equal(RunStatus.Succeeded, resumed.Status);
        Assert.Empty(resumed.PendingTables);
        Assert.Equal(100L, await Count(target, "kept"));
        Assert.Equal(7L, await Count(target, "declined"));
    }

    [Fact]
    public async Task ACancelledLoadIsInterruptedWithoutShardFailuresAndTheWarningGivesTheResumeCommand()
    {
        var source = await fixture.NewDatabaseAsync("cancel_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL);
            INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
            ANALYZE;
            """);
        var target = await fixture.NewDatabaseAsync("cancel_dst");
        using var cancel = new CancellationTokenSource();
        var log = new List<string>();
        // Every 5000th row makes the source's COPY sleep: Ctrl+C comes while the shard waits on the source, whose
        // cancelled COPY the driver ends with its own error.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate with
        {
            FetchId = "cancel-test", ShardsPerTable = 1,
            Where = new Dictionary<string, string> { ["big"] = "id % 5000 <> 0 OR pg_sleep(2) IS NOT NULL" },
        }, cancel.Token, onLog: line =>
        {
            lock (log) { log.Add(line); }
            if (line.StartsWith("Information: Loading", StringComparison.Ordinal))
            {
                cancel.CancelAfter(TimeSpan.FromMilliseconds(1000));
            }
        }));

        Assert.Equal(RunStatus.Interrupted, await fixture.Server.ScalarAsync<string>(target, "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'cancel-test'"));
        Assert.Equal("public.big#0 interrupted", await ShardStates(target));
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_exceptions"));
        Assert.Contains(log, l => l.StartsWith("Warning:", StringComparison.Ordinal)
            && l.Contains("Start-MoltBulkLoad", StringComparison.Ordinal) && l.Contains("-FetchId 'cancel-test' -Resume", StringComparison.Ordinal));

        var (_, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), BareResume("cancel-test"));
        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "big"), await LoadHarness.DigestAsync(fixture.Server, target, "big"));
    }

    [Fact]
    public async Task CancellingWhileATableIsSplitLeavesTheRunInterrupted()
    {
        var source = await fixture.NewDatabaseAsync("split_src");
        // Never analysed, so the shards are sized by counting the filtered rows: a count that takes seconds.
        await fixture.Server.ExecuteAsync(source, "CREATE TABLE slow (id int PRIMARY KEY); INSERT INTO slow SELECT generate_series(1, 40);");
        var target = await fixture.NewDatabaseAsync("split_dst");
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate with
        {
            FetchId = "split-test", MinRowsPerShard = 1,
            Where = new Dictionary<string, string> { ["slow"] = "pg_sleep(0.1) IS NOT NULL" },
        }, cancel.Token, onLog: line =>
        {
            if (line.Contains("CREATE TABLE", StringComparison.Ordinal))
            {
                cancel.CancelAfter(TimeSpan.FromMilliseconds(700));
            }
        }));

        Assert.Equal(RunStatus.Interrupted, await fixture.Server.ScalarAsync<string>(target, "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'split-test'"));
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_exceptions"));
        var (_, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), BareResume("split-test"));
        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(40L, await Count(target, "slow"));
    }

    [Fact]
    public async Task CancellingDuringPostLoadLeavesTheRunInterruptedAndTheResumeFinishesItWithoutDuplicateErrors()
    {
        var source = await fixture.NewDatabaseAsync("postcancel_src");
        // The check calls pg_sleep for every row it validates, so adding it to the loaded table takes seconds.
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE parent (id int PRIMARY KEY, code text NOT NULL, CONSTRAINT parent_code_key UNIQUE (code));
            INSERT INTO parent SELECT g, 'c' || g FROM generate_series(1, 100) g;
            CREATE INDEX parent_code_idx ON parent (code);
            CREATE TABLE tail (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent (id),
                CONSTRAINT tail_slow CHECK (pg_sleep(0.05)::text = ''));
            INSERT INTO tail SELECT g, g FROM generate_series(1, 60) g;
            """);
        var target = await fixture.NewDatabaseAsync("postcancel_dst");
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target),
            Recreate with { FetchId = "post-test" }, cancel.Token, onLog: line =>
            {
                if (line.Contains("ADD CONSTRAINT", StringComparison.Ordinal) && line.Contains("tail_slow", StringComparison.Ordinal))
                {
                    cancel.CancelAfter(TimeSpan.FromMilliseconds(500));
                }
            }));
        Assert.Equal(RunStatus.Interrupted, await fixture.Server.ScalarAsync<string>(target, "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'post-test'"));
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_exceptions"));

        var (_, summary, _, log) = await LoadHarness.LoadAsync(Uri(source), Uri(target), BareResume("post-test"));

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal("", await fixture.Server.ScalarAsync<string>(target, "SELECT coalesce(string_agg(message, ' | '), '') FROM _molt.fetch_exceptions"));
        Assert.DoesNotContain(log, l => l.StartsWith("Warning:", StringComparison.Ordinal));
        Assert.Equal(1L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_constraint WHERE conname = 'tail_slow'"));
        Assert.Equal(1L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_indexes WHERE indexname = 'parent_code_idx'"));
    }

    [Fact]
    public async Task AResumedRunDoesNotReportTheIndexesAndConstraintsItCreatedBefore()
    {
        var source = await fixture.NewDatabaseAsync("postload_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE parent (id int PRIMARY KEY, code text NOT NULL, CONSTRAINT parent_code_key UNIQUE (code));
            INSERT INTO parent SELECT g, 'c' || g FROM generate_series(1, 100) g;
            CREATE INDEX parent_code_idx ON parent (code);
            CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent (id), CONSTRAINT child_id_check CHECK (id > 0));
            INSERT INTO child SELECT g, g FROM generate_series(1, 50) g;
            CREATE TABLE numbers (id int PRIMARY KEY, n text NOT NULL);
            INSERT INTO numbers SELECT g, g::text FROM generate_series(1, 20) g;
            UPDATE numbers SET n = 'seven' WHERE id = 7;
            """);
        var target = await fixture.NewDatabaseAsync("postload_dst");
        // numbers.n is cast to int on the source: the one row that is not a number fails its shard, the other tables load.
        var options = Recreate with
        {
            FetchId = "postload-test",
            TypeMap = TypeMapOverrides.Parse("""[{"table": "public.numbers", "column_type_map": [{"column": "n", "target_type": "int"}]}]"""),
        };
        var (_, failed, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), options);
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Equal([new TableName("public", "numbers")], failed.FailedTables);
        var exceptionsBefore = await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_exceptions");

        await fixture.Server.ExecuteAsync(source, "UPDATE numbers SET n = '7' WHERE id = 7");
        var (_, summary, _, log) = await LoadHarness.LoadAsync(Uri(source), Uri(target), BareResume("postload-test"));

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(20L, await Count(target, "numbers"));
        Assert.DoesNotContain(log, l => l.StartsWith("Warning:", StringComparison.Ordinal));
        Assert.Equal(exceptionsBefore, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_exceptions"));
        Assert.Equal(1L, await fixture.Server.ScalarAsync<long>(target,
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'public.child'::regclass"));
    }

    [Fact]
    public async Task ATableEstimatedToHaveRowsThatLoadsNoneGetsAWarning()
    {
        var source = await fixture.NewDatabaseAsync("norows_src");
        await fixture.Server.ExecuteAsync(source, "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 5000); ANALYZE;");
        var target = await fixture.NewDatabaseAsync("norows_dst");
        var (_, summary, tables, log) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate with
        {
            Where = new Dictionary<string, string> { ["orders"] = "id < 0" },
        });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(0L, Assert.Single(tables).Rows);
        var warning = Assert.Single(log, l => l.StartsWith("Warning:", StringComparison.Ordinal) && l.Contains("public.orders", StringComparison.Ordinal));
        Assert.Contains("5000", warning);
        Assert.Contains("-Where", warning);
        Assert.Contains("source database", warning);
    }

    [Fact]
    public async Task ATableResumedWithSomeShardsDoneReportsTheRateOfThisAttemptAlone()
    {
        var (source, target) = await FailedRunAsync("rate", rows: 40_000, badRow: 30_000, minRowsPerShard: 10_000);
        var doneRows = await fixture.Server.ScalarAsync<long>(target,
            "SELECT sum(rows_loaded)::bigint FROM _molt.fetch_shards WHERE source_table = 'public.accounts' AND status = 'done'");
        Assert.InRange(doneRows, 1, 39_999);
        await fixture.Server.ExecuteAsync(target, "ALTER TABLE accounts DROP CONSTRAINT accounts_balance_check");

        var (_, _, tables, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), BareResume("rate"));

        var accounts = tables.Single(t => t.Table.Name == "accounts");
        Assert.Equal(40_000L, accounts.Rows);
        Assert.Equal(doneRows, accounts.RowsBefore);
        Assert.Equal((40_000 - doneRows) / accounts.Duration.TotalSeconds, accounts.RowsPerSecond, 3);
    }

    /// <summary>
    /// A run that failed: accounts (one row the target's check rejects, under -TableHandling None) and the first 40 notes
    /// (a -Where filter).
    /// </summary>
    private async Task<(string Source, string Target)> FailedRunAsync(string fetchId, int rows = 1000, int badRow = 777, int minRowsPerShard = 10_000)
    {
        var source = await fixture.NewDatabaseAsync($"{fetchId}_src");
        await fixture.Server.ExecuteAsync(source, $"""
            CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
            INSERT INTO accounts SELECT g, CASE WHEN g = {badRow} THEN -5 ELSE g END FROM generate_series(1, {rows}) g;
            CREATE TABLE notes (id int PRIMARY KEY, body text);
            INSERT INTO notes SELECT g, 'n' FROM generate_series(1, 50) g;
            CREATE TABLE unrelated (id int PRIMARY KEY);
            ANALYZE;
            """);
        var target = await fixture.NewDatabaseAsync($"{fetchId}_dst");
        await fixture.Server.ExecuteAsync(target, """
            CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0));
            CREATE TABLE notes (id int PRIMARY KEY, body text);
            """);
        var (_, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), new BulkLoadOptions
        {
            FetchId = fetchId, ShardsPerTable = 4, MinRowsPerShard = minRowsPerShard, Filter = new TableFilter(tables: ["accounts", "notes"]),
            Where = new Dictionary<string, string> { ["public.notes"] = "id <= 40" },
        });
        Assert.Equal(RunStatus.Failed, summary.Status);
        return (source, target);
    }

    /// <summary>-FetchId and -Resume alone, as a user types it after a failure or Ctrl+C.</summary>
    private static BulkLoadOptions BareResume(string fetchId) => new() { FetchId = fetchId, Resume = true, GivenSelection = SelectionParts.None };

    /// <summary>A resume that sets its selection explicitly (here: the same as the failed run's unless changed).</summary>
    private static BulkLoadOptions Resume(string fetchId) => new()
    {
        FetchId = fetchId, Resume = true, Filter = new TableFilter(tables: ["accounts", "notes"]),
        Where = new Dictionary<string, string> { ["public.notes"] = "id <= 40" },
    };

    private Task<string?> ShardStates(string target, string where = "true") => fixture.Server.ScalarAsync<string>(target,
        $"SELECT coalesce(string_agg(source_table || '#' || shard || ' ' || status, ', ' ORDER BY source_table, shard), '') FROM _molt.fetch_shards WHERE {where}");

    private string Uri(string database) => fixture.Server.ConnectionUri(database);

    private async Task<long> Count(string database, string table) => await fixture.Server.ScalarAsync<long>(database, $"SELECT count(*) FROM {table}");
}
