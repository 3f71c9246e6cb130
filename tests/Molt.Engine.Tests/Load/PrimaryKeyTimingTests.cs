using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.State;

namespace Molt.Engine.Tests.Load;

/// <summary>
/// With -TableHandling DropAndRecreate on PostgreSQL a table's primary key is built after its rows when the table is
/// large enough for that to pay, unless -DeferPrimaryKey says otherwise; every table ends with its key, resumed or not.
/// </summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class PrimaryKeyTimingTests(PostgresSourceFixture fixture)
{
    private static readonly BulkLoadOptions Recreate = new() { TableHandling = TableHandling.DropAndRecreate };

    private const string Keys =
        "SELECT string_agg(conrelid::regclass::text || ' ' || pg_get_constraintdef(oid), '; ' ORDER BY conrelid::regclass::text) FROM pg_constraint WHERE contype = 'p' AND connamespace = 'public'::regnamespace";

    [Fact]
    public async Task ByDefaultALargeTableBuildsItsKeyAfterItsRowsAndASmallOneWithTheTableEachSayingWhy()
    {
        var source = await fixture.NewDatabaseAsync("pk_default_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL);
            INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 120000) g;
            CREATE TABLE small (a int, b text, PRIMARY KEY (a, b));
            INSERT INTO small SELECT g, g::text FROM generate_series(1, 10) g;
            ANALYZE;
            """);
        var target = await fixture.NewDatabaseAsync("pk_default_dst");

        var (plan, summary, tables, log) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate);

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        var big = plan.Tables.Single(t => t.Plan.Source.Name.Name == "big");
        Assert.True(big.PrimaryKey!.AfterLoad);
        Assert.Contains("at least 100,000", big.PrimaryKey.Reason);
        Assert.DoesNotContain("PRIMARY KEY", big.PreLoad[^1]);
        Assert.Contains("ADD PRIMARY KEY (\"id\")", big.PrimaryKeyAfterLoad);
        var small = plan.Tables.Single(t => t.Plan.Source.Name.Name == "small");
        Assert.False(small.PrimaryKey!.AfterLoad);
        Assert.Contains("under 100,000", small.PrimaryKey.Reason);
        Assert.Contains("PRIMARY KEY", small.PreLoad[^1]);
        Assert.Null(small.PrimaryKeyAfterLoad);
        // The choice travels with each table's result, and the summary says where the time went.
        Assert.Equal(big.PrimaryKey, tables.Single(t => t.Table.Name == "big").PrimaryKey);
        Assert.Contains(summary.Phases, p => p.Name == "primary key" && p.Count == 1);
        Assert.Contains(summary.Phases, p => p.Name == "copy" && p.Duration > TimeSpan.Zero);
        Assert.Contains(log, l => l.Contains("took", StringComparison.Ordinal) && l.Contains("snapshot", StringComparison.Ordinal));
        Assert.Equal(await fixture.Server.ScalarAsync<string>(source, Keys), await fixture.Server.ScalarAsync<string>(target, Keys));
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "big"), await LoadHarness.DigestAsync(fixture.Server, target, "big"));
    }

    [Fact]
    public async Task DeferPrimaryKeyFalseKeepsEveryKeyWithItsTable()
    {
        var source = await fixture.NewDatabaseAsync("pk_kept_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL);
            INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 120000) g;
            ANALYZE;
            """);
        var target = await fixture.NewDatabaseAsync("pk_kept_dst");

        var (plan, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate with { DeferPrimaryKey = false });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        var big = Assert.Single(plan.Tables);
        Assert.False(big.PrimaryKey!.AfterLoad);
        Assert.Contains("-DeferPrimaryKey:$false", big.PrimaryKey.Reason);
        Assert.Contains("PRIMARY KEY", big.PreLoad[^1]);
        Assert.Null(big.PrimaryKeyAfterLoad);
        Assert.Equal(await fixture.Server.ScalarAsync<string>(source, Keys), await fixture.Server.ScalarAsync<string>(target, Keys));
    }

    [Fact]
    public async Task ALoadCancelledBeforeItsDeferredKeyWasBuiltEndsWithTheKeyWhenResumedWithTheKeyKeptWithTheTable()
    {
        var source = await fixture.NewDatabaseAsync("pk_resume_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL);
            INSERT INTO big SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 300000) g;
            ANALYZE;
            """);
        var target = await fixture.NewDatabaseAsync("pk_resume_dst");
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target),
            Recreate with { FetchId = "pk-resume", ShardsPerTable = 6, TableConcurrency = 1 }, cancel.Token,
            p => { if (p.Rows >= 20_000) cancel.Cancel(); }));
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid = 'public.big'::regclass"));

        // This attempt alone would create the table with its key; the table the first attempt created has none yet.
        var (plan, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate with { FetchId = "pk-resume", Resume = true, DeferPrimaryKey = false });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.True(Assert.Single(plan.Tables).PrimaryKey!.AddedIfMissing);
        Assert.Equal(await fixture.Server.ScalarAsync<string>(source, Keys), await fixture.Server.ScalarAsync<string>(target, Keys));
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "big"), await LoadHarness.DigestAsync(fixture.Server, target, "big"));
    }

    private string Uri(string database) => fixture.Server.ConnectionUri(database);
}
