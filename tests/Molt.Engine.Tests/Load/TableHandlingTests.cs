using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.State;

namespace Molt.Engine.Tests.Load;

/// <summary>
/// TruncateIfExists and DropAndRecreate on targets whose tables are tied together and to tables outside the load by
/// foreign keys and views: the whole selection is emptied or dropped at once, and nothing outside it goes unless asked.
/// </summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class TableHandlingTests(PostgresSourceFixture fixture)
{
    private const string Library = """
        CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);
        CREATE TABLE books (id int PRIMARY KEY, author_id int NOT NULL REFERENCES authors, title text NOT NULL);
        """;

    private static readonly BulkLoadOptions Truncate = new()
    {
        TableHandling = TableHandling.TruncateIfExists,
        Filter = new TableFilter(tables: ["authors", "books"]),
        // One table at a time, authors first: the target keeps its foreign key while the rows arrive.
        TableConcurrency = 1,
    };

    private static readonly BulkLoadOptions Recreate = new()
    {
        TableHandling = TableHandling.DropAndRecreate,
        Filter = new TableFilter(tables: ["authors", "books"]),
    };

    [Fact]
    public async Task TruncateEmptiesTablesThatReferenceEachOtherInOneStatementAndKeepsTheirViews()
    {
        var (source, target) = await LibraryAsync("trunc_fk");
        await fixture.Server.ExecuteAsync(target, "CREATE VIEW book_titles AS SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id");

        var (_, summary, _, log) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Truncate);

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        foreach (var table in new[] { "authors", "books" })
        {
            Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, table), await LoadHarness.DigestAsync(fixture.Server, target, table));
        }

        Assert.Equal([Ran("TRUNCATE TABLE \"public\".\"authors\", \"public\".\"books\"")], log.Where(l => l.Contains("TRUNCATE")));
        Assert.Equal(5L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM book_titles"));
        Assert.Equal(1L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"));
    }

    [Fact]
    public async Task TruncateIsRefusedBeforeAnythingIsWrittenWhenATableOutsideTheSelectionReferencesOne()
    {
        var (source, target) = await LibraryAsync("trunc_outside");
        await fixture.Server.ExecuteAsync(target, """
            CREATE TABLE reviews (id int PRIMARY KEY, book_id int REFERENCES books, body text);
            INSERT INTO reviews VALUES (1, 99, 'kept');
            """);

        var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target), Truncate));

        Assert.Equal(("TruncateReferencedTable", MoltErrorKind.InvalidState), (error.ErrorId, error.Kind));
        Assert.Contains("\"public\".\"reviews\"", error.Message);
        Assert.Contains("\"reviews_book_id_fkey\"", error.Message);
        Assert.Contains("-Cascade", error.Remedy);
        await AssertUntouchedAsync(target);
        Assert.Equal(1L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM reviews"));
    }

    [Fact]
    public async Task DropIsRefusedBeforeAnythingIsWrittenNamingEveryViewAndForeignKeyItWouldTakeAlong()
    {
        var (source, target) = await LibraryAsync("drop_outside");
        await fixture.Server.ExecuteAsync(target, """
            CREATE TABLE reviews (id int PRIMARY KEY, book_id int REFERENCES books, body text);
            CREATE VIEW book_titles AS SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id;
            CREATE VIEW loud_titles AS SELECT upper(title) AS title FROM book_titles;
            CREATE MATERIALIZED VIEW author_counts AS SELECT author_id, count(*) FROM books GROUP BY author_id;
            """);

        var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate));

        Assert.Equal(("DependentObjectsWouldBeDropped", MoltErrorKind.InvalidState), (error.ErrorId, error.Kind));
        Assert.Contains("view \"public\".\"book_titles\"", error.Message);
        Assert.Contains("view \"public\".\"loud_titles\"", error.Message);
        Assert.Contains("materialized view \"public\".\"author_counts\"", error.Message);
        Assert.Contains("foreign key \"reviews_book_id_fkey\" of \"public\".\"reviews\"", error.Message);
        // The foreign key between the two selected tables is recreated after the load: not a reason to refuse.
        Assert.DoesNotContain("books_author_id_fkey", error.Message);
        Assert.Contains("-Cascade", error.Remedy);
        await AssertUntouchedAsync(target);
        Assert.Equal(1L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_class WHERE relname = 'author_counts'"));
    }

    [Fact]
    public async Task DropAndRecreateOverTablesThatOnlyReferenceEachOtherNeedsNoCascade()
    {
        var (source, target) = await LibraryAsync("drop_inside");

        var (_, summary, _, log) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate);

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal([Ran("DROP TABLE IF EXISTS \"public\".\"authors\", \"public\".\"books\"")], log.Where(l => l.Contains("DROP")));
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "books"), await LoadHarness.DigestAsync(fixture.Server, target, "books"));
        Assert.Equal(1L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"));
    }

    [Fact]
    public async Task OnCockroachDbTheForeignKeysOfOtherTablesAreFoundThroughInformationSchema()
    {
        var (source, target) = await LibraryAsync("crdb_outside");
        await fixture.Server.ExecuteAsync(target, "CREATE TABLE reviews (id int PRIMARY KEY, book_id int REFERENCES books, body text)");
        var cockroach = new CockroachDialect(MissingPrimaryKey.Refuse);

        var truncate = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target), Truncate, dialect: cockroach));
        var drop = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate, dialect: cockroach));

        Assert.Equal("TruncateReferencedTable", truncate.ErrorId);
        Assert.Contains("\"public\".\"reviews\"", truncate.Message);
        Assert.Equal("DependentObjectsWouldBeDropped", drop.ErrorId);
        Assert.Contains("foreign key \"reviews_book_id_fkey\" of \"public\".\"reviews\"", drop.Message);
        Assert.DoesNotContain("books_author_id_fkey", drop.Message);
        await AssertUntouchedAsync(target);
    }

    [Fact]
    public async Task TruncateWithCascadeAlsoEmptiesEveryTableThatReferencesTheSelectionAndNamesThem()
    {
        var (source, target) = await LibraryAsync("trunc_cascade");
        await fixture.Server.ExecuteAsync(target, """
            CREATE TABLE reviews (id int PRIMARY KEY, book_id int REFERENCES books, body text);
            CREATE TABLE review_flags (id int PRIMARY KEY, review_id int REFERENCES reviews);
            CREATE TABLE unrelated (id int PRIMARY KEY);
            INSERT INTO reviews VALUES (1, 99, 'gone');
            INSERT INTO review_flags VALUES (1, 1);
            INSERT INTO unrelated VALUES (1);
            """);

        var (plan, summary, _, log) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Truncate with { Cascade = true });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        var reset = Assert.IsType<TableReset>(plan.Reset);
        Assert.Equal("TRUNCATE TABLE \"public\".\"authors\", \"public\".\"books\" CASCADE", reset.Sql);
        Assert.Equal(
            ["table \"public\".\"reviews\" (its foreign key \"reviews_book_id_fkey\" references \"public\".\"books\")",
             "table \"public\".\"review_flags\" (its foreign key \"review_flags_review_id_fkey\" references \"public\".\"reviews\")"],
            reset.AlsoRemoved.Select(d => d.Description));
        Assert.Contains(Ran(reset.Sql), log);
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT (SELECT count(*) FROM reviews) + (SELECT count(*) FROM review_flags)"));
        Assert.Equal(1L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM unrelated"));
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "books"), await LoadHarness.DigestAsync(fixture.Server, target, "books"));
    }

    [Fact]
    public async Task DropWithCascadeDropsTheViewsAndForeignKeysItNamedAndKeepsTheOtherTablesRows()
    {
        var (source, target) = await LibraryAsync("drop_cascade");
        await fixture.Server.ExecuteAsync(target, """
            CREATE TABLE reviews (id int PRIMARY KEY, book_id int REFERENCES books, body text);
            INSERT INTO reviews VALUES (1, 99, 'kept');
            CREATE VIEW book_titles AS SELECT title FROM books;
            """);

        var (plan, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate with { Cascade = true });

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        var reset = Assert.IsType<TableReset>(plan.Reset);
        Assert.Equal("DROP TABLE IF EXISTS \"public\".\"authors\", \"public\".\"books\" CASCADE", reset.Sql);
        Assert.Equal(["foreign key \"reviews_book_id_fkey\" of \"public\".\"reviews\"", "view \"public\".\"book_titles\""],
            reset.AlsoRemoved.Select(d => d.Description).Order(StringComparer.Ordinal));
        Assert.Null(reset.Unlisted);
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_class WHERE relname = 'book_titles'"));
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_constraint WHERE conname = 'reviews_book_id_fkey'"));
        Assert.Equal("kept", await fixture.Server.ScalarAsync<string>(target, "SELECT body FROM reviews"));
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "books"), await LoadHarness.DigestAsync(fixture.Server, target, "books"));
    }

    [Fact]
    public async Task ADependentCreatedBetweenPlanAndExecutionIsRefusedBeforeAnyTableChanges()
    {
        var (source, target) = await LibraryAsync("drop_late");
        using var log = new MoltLogSession();
        await using var session = await BulkLoadSession.OpenAsync(EndpointAddress.Parse(Uri(source)), EndpointAddress.Parse(Uri(target)), Recreate,
            new SourceOptions(), log, CancellationToken.None);
        var plan = await session.PlanAsync(CancellationToken.None);
        Assert.Empty(plan.Reset!.AlsoRemoved);
        await fixture.Server.ExecuteAsync(target, "CREATE VIEW late AS SELECT name FROM authors");

        var error = await Assert.ThrowsAsync<MoltException>(() => session.ExecuteAsync(plan, new BulkLoadCallbacks(), CancellationToken.None));

        Assert.Equal("DependentObjectsWouldBeDropped", error.ErrorId);
        Assert.Contains("view \"public\".\"late\"", error.Message);
        Assert.Equal("stale", await fixture.Server.ScalarAsync<string>(target, "SELECT name FROM late"));
    }

    [Fact]
    public async Task CascadeWithoutADestructiveTableHandlingIsRefused()
    {
        var (source, target) = await LibraryAsync("cascade_none");
        var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target),
            new BulkLoadOptions { Cascade = true, Filter = Truncate.Filter }));
        Assert.Equal(("CascadeNeedsTableHandling", MoltErrorKind.InvalidArgument), (error.ErrorId, error.Kind));
    }

    /// <summary>A source and a target holding the same two tables tied by a foreign key; the target's rows are stale.</summary>
    private async Task<(string Source, string Target)> LibraryAsync(string prefix)
    {
        var source = await fixture.NewDatabaseAsync(prefix + "_src");
        await fixture.Server.ExecuteAsync(source, Library + """
            INSERT INTO authors VALUES (1, 'Woolf'), (2, 'Borges'), (3, 'Le Guin');
            INSERT INTO books VALUES (10, 1, 'Orlando'), (11, 1, 'The Waves'), (12, 2, 'Ficciones'), (13, 3, 'The Dispossessed'), (14, 3, 'Lathe');
            ANALYZE;
            """);
        var target = await fixture.NewDatabaseAsync(prefix + "_dst");
        await fixture.Server.ExecuteAsync(target, Library + """
            INSERT INTO authors VALUES (99, 'stale');
            INSERT INTO books VALUES (99, 99, 'stale');
            """);
        return (source, target);
    }

    private async Task AssertUntouchedAsync(string target)
    {
        Assert.Equal("stale", await fixture.Server.ScalarAsync<string>(target, "SELECT title FROM books"));
        Assert.Equal("stale", await fixture.Server.ScalarAsync<string>(target, "SELECT name FROM authors"));
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'"));
    }

    /// <summary>The debug log line of a statement run on the target (the log quotes it as a string).</summary>
    private static string Ran(string sql) => $"Debug: Target: \"{sql.Replace("\"", "\\\"")}\"";

    private string Uri(string database) => fixture.Server.ConnectionUri(database);
}
