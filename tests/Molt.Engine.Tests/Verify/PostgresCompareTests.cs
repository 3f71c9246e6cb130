using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Tests.Load;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Verify;

[Collection(PostgresSourceCollection.Name)]
public sealed class PostgresCompareTests(PostgresSourceFixture fixture)
{
    [Fact]
    public async Task ALoadedCopyIsEqualAndEachChangeIsReportedOnceWithItsKeyAndColumn()
    {
        var target = await fixture.NewDatabaseAsync("verify_pagila");
        var filter = new TableFilter(tables: ["actor", "film", "payment*", "film_actor"]);
        await LoadHarness.LoadAsync(Uri("pagila"), Uri(target), new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, Filter = filter });

        var (equal, none) = await CompareHarness.CompareAsync(Uri("pagila"), Uri(target), new CompareOptions { Filter = filter });
        Assert.Equal(4, equal.Count);
        Assert.All(equal, t => Assert.Equal(ComparisonStatus.Equal, t.Status));
        Assert.Empty(none);
        Assert.Equal(await fixture.Server.ScalarAsync<long>("pagila", "SELECT count(*) FROM payment"), equal.Single(t => t.Table.Name == "payment").SourceRows);

        await fixture.Server.ExecuteAsync(target, """
            ALTER TABLE film_actor DROP CONSTRAINT IF EXISTS film_actor_actor_id_fkey;
            UPDATE film SET rental_rate = rental_rate + 1, special_features = '{Trailers}' WHERE film_id = 7;
            DELETE FROM actor WHERE actor_id = 5;
            INSERT INTO actor (actor_id, first_name, last_name) VALUES (999, 'NEW', 'ACTOR');
            """);
        var (tables, differences) = await CompareHarness.CompareAsync(Uri("pagila"), Uri(target), new CompareOptions { Filter = filter });

        var actor = tables.Single(t => t.Table.Name == "actor");
        Assert.Equal((ComparisonStatus.Different, 1L, 1L, 0L), (actor.Status, actor.Missing, actor.Extra, actor.Mismatched));
        var film = tables.Single(t => t.Table.Name == "film");
        Assert.Equal((1L, 0L, 0L), (film.Mismatched, film.Missing, film.Extra));
        Assert.Equal(3, differences.Count);
        var mismatch = Assert.Single(differences, d => d.Kind == DifferenceKind.Mismatch);
        Assert.Equal("film_id=7", mismatch.Key);
        Assert.Equal(["rental_rate", "special_features"], mismatch.Columns);
        Assert.Equal("actor_id=5", Assert.Single(differences, d => d.Kind == DifferenceKind.Missing).Key);
        Assert.Equal("actor_id=999", Assert.Single(differences, d => d.Kind == DifferenceKind.Extra).Key);
    }

    [Fact]
    public async Task TextKeysInMixedCaseAccentsAndEmojiOrderTheSameOnBothSides()
    {
        var source = await fixture.NewDatabaseAsync("verify_text_src");
        var target = await fixture.NewDatabaseAsync("verify_text_dst");
        const string table = """
            CREATE TABLE words (word text COLLATE "und-x-icu" PRIMARY KEY, n int);
            INSERT INTO words VALUES ('apple', 1), ('Banana', 2), ('éclair', 3), ('Zebra', 4), ('😀smile', 5), ('ｆull', 6), ('eclair', 7), ('', 8);
            """;
        await fixture.Server.ExecuteAsync(source, table.Replace("und-x-icu", "C"));
        await fixture.Server.ExecuteAsync(target, table);
        await fixture.Server.ExecuteAsync(target, "DELETE FROM words WHERE word = 'Zebra'");

        var (tables, differences) = await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions());
        var words = Assert.Single(tables);
        Assert.Equal((7L, 1L, 0L, 0L), (words.TargetRows, words.Missing, words.Extra, words.Mismatched));
        Assert.Equal("word=Zebra", Assert.Single(differences).Key);
    }

    [Fact]
    public async Task ATableWithoutKeyIsComparedAsAMultiset()
    {
        var source = await fixture.NewDatabaseAsync("verify_bag_src");
        var target = await fixture.NewDatabaseAsync("verify_bag_dst");
        foreach (var database in new[] { source, target })
        {
            await fixture.Server.ExecuteAsync(database, "CREATE TABLE hits (page text, n int); INSERT INTO hits VALUES ('a', 1), ('a', 1), ('b', 2);");
        }

        await fixture.Server.ExecuteAsync(target, "DELETE FROM hits WHERE ctid = (SELECT min(ctid) FROM hits WHERE page = 'a'); INSERT INTO hits VALUES ('c', 3);");
        var hits = Assert.Single((await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions())).Tables);
        Assert.Equal((ComparisonStatus.Different, 1L, 1L), (hits.Status, hits.Missing, hits.Extra));
        Assert.Contains("multiset", hits.Note);
    }

    [Fact]
    public async Task AMillionRowsCompareInBoundedMemory()
    {
        var source = await fixture.NewDatabaseAsync("verify_big_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE big (id bigint PRIMARY KEY, n int, t text, amount numeric(12,2), at timestamptz);
            INSERT INTO big SELECT g, g % 1000, md5(g::text), g / 100.0, '2024-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, 1000000) g;
            ANALYZE big;
            """);
        var target = await fixture.NewDatabaseAsync("verify_big_dst");
        await LoadHarness.LoadAsync(Uri(source), Uri(target), new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });
        await fixture.Server.ExecuteAsync(target, "UPDATE big SET t = 'changed' WHERE id = 654321");

        GC.Collect();
        var before = GC.GetTotalMemory(true);
        var peak = 0L;
        using var sampling = new CancellationTokenSource();
        // The live heap, sampled after a full collection: uncollected garbage (a gen0 budget can be tens of MB, and the
        // other tests of this process allocate too) says nothing about what the comparison holds.
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(true));
                await Task.Delay(100);
            }
        });
        var (tables, differences) = await CompareHarness.CompareAsync(Uri(source), Uri(target), new CompareOptions());
        await sampling.CancelAsync();
        await sampler;

        var big = Assert.Single(tables);
        Assert.Equal((1_000_000L, 1L), (big.SourceRows, big.Mismatched));
        Assert.Equal("id=654321", Assert.Single(differences).Key);
        // A million rows of ~100 bytes would be ~200 MB held on both sides; streaming keeps the managed heap far below.
        Assert.True(peak - before < 64L * 1024 * 1024, $"managed heap grew by {(peak - before) / 1024 / 1024} MB");
    }

    private string Uri(string database) => fixture.Server.ConnectionUri(database);
}
