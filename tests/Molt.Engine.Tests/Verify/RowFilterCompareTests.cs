using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Tests.Load;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Verify;

/// <summary>Compare-MoltData -Where: the rows a filtered load copied, compared without the rows it left out on either side.</summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class RowFilterCompareTests(PostgresSourceFixture fixture)
{
    private static readonly Dictionary<string, string> FirstHalf = new() { ["public.items"] = "id <= 500" };

    [Fact]
    public async Task AFilteredLoadComparesEqualUnderItsFilterOnBothSidesEvenWithOtherRowsInTheTarget()
    {
        var (source, target) = await LoadedSliceAsync("verify_where_both");
        // Another slice loaded into the same target table lies outside this filter and must not count as extra.
        await fixture.Server.ExecuteAsync(target, "INSERT INTO items VALUES (2000, 'other slice')");

        var (tables, differences) = await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions { Where = FirstHalf });
        var items = Assert.Single(tables);
        Assert.Equal((ComparisonStatus.Equal, 500L, 500L), (items.Status, items.SourceRows, items.TargetRows));
        Assert.Contains("on both sides", items.Note);
        Assert.Empty(differences);

        var (unfiltered, _) = await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions());
        Assert.Equal((500L, 1L), (Assert.Single(unfiltered).Missing, Assert.Single(unfiltered).Extra));
    }

    [Fact]
    public async Task APredicateTheTargetCannotEvaluateFiltersTheSourceOnlyAndSaysSo()
    {
        var (source, target) = await LoadedSliceAsync("verify_where_source");
        await fixture.Server.ExecuteAsync(source, "ALTER TABLE items ADD COLUMN region text NOT NULL DEFAULT 'eu'");

        var (tables, _) = await CompareHarness.CompareAsync(Uri(source), Uri(target),
            new CompareOptions { Where = new Dictionary<string, string> { ["items"] = "region = 'eu' AND id <= 500" } });
        var items = Assert.Single(tables);
        Assert.Equal((500L, 500L, 0L, 0L), (items.SourceRows, items.TargetRows, items.Missing, items.Extra));
        Assert.Contains("on the source only", items.Note);
        Assert.Contains("region", items.Note);
    }

    [Fact]
    public async Task AWhereKeyNamingNoComparedTableIsAnErrorNamingIt()
    {
        var (source, target) = await LoadedSliceAsync("verify_where_nomatch");
        var error = await Assert.ThrowsAsync<MoltException>(() => CompareHarness.CompareAsync(Uri(source), Uri(target),
            new CompareOptions { Filter = new TableFilter(tables: ["items"]), Where = new Dictionary<string, string> { ["public.itemz"] = "id <= 500" } }));
        Assert.Equal("RowFilterMatchesNoTable", error.ErrorId);
        Assert.Contains("'public.itemz'", error.Message);
    }

    [Fact]
    public async Task ALoadWhereKeyNamingNoSelectedTableIsRefusedBeforeAnythingIsWritten()
    {
        var (source, _) = await LoadedSliceAsync("load_where_nomatch");
        var target = await fixture.NewDatabaseAsync("load_where_nomatch_dst");
        var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(Uri(source), Uri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, Where = new Dictionary<string, string> { ["itemz"] = "id <= 500" } }));
        Assert.Equal("RowFilterMatchesNoTable", error.ErrorId);
        Assert.Contains("'itemz'", error.Message);
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
    }

    private async Task<(string Source, string Target)> LoadedSliceAsync(string prefix)
    {
        var source = await fixture.NewDatabaseAsync(prefix + "_src");
        var target = await fixture.NewDatabaseAsync(prefix + "_dst");
        await fixture.Server.ExecuteAsync(source, "CREATE TABLE items (id bigint PRIMARY KEY, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 1000) g;");
        await LoadHarness.LoadAsync(Uri(source), Uri(target), new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, Where = FirstHalf });
        return (source, target);
    }

    private string Uri(string database) => fixture.Server.ConnectionUri(database);
}
