using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Molt.Engine.Tests.Load;
using Npgsql;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// The CockroachDB dialect forced onto the PostgreSQL fixture: every statement it spells as PostgreSQL does (its DDL, the
/// WITH BINARY COPY, constraints after the load, identity restarts, batched deletes) runs for real here. Only what is
/// CockroachDB's alone (CREATE TYPE IF NOT EXISTS, INVERTED INDEX, UPSERT) is left to the expected-SQL tests.
/// </summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class CockroachPostgresSharedSpellingTests(PostgresSourceFixture fixture)
{
    private static readonly BulkLoadOptions Recreate = new() { TableHandling = TableHandling.DropAndRecreate };

    [Fact]
    public async Task PagilaWithoutItsEnumTableLoadsRowForRow()
    {
        var target = await fixture.NewDatabaseAsync("crdb_pagila");
        // film's rating is an enum (CREATE TYPE IF NOT EXISTS is CockroachDB's alone); the tables left match type for type.
        var options = Recreate with { Filter = new TableFilter(excludedTables: ["film"]) };
        var (plan, summary, _, _) = await LoadHarness.LoadAsync(Uri("pagila"), Uri(target), options, dialect: new CockroachDialect(MissingPrimaryKey.Refuse));

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.True(plan.Tables.Count >= 13);
        foreach (var table in plan.Tables.Select(t => $"public.\"{t.Plan.Target.Name}\""))
        {
            Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, "pagila", table), await LoadHarness.DigestAsync(fixture.Server, target, table));
        }

        // Identities continue after the loaded rows; foreign keys among the loaded tables exist.
        Assert.Equal(await fixture.Server.ScalarAsync<long>("pagila", "SELECT max(actor_id) + 1 FROM actor"),
            await fixture.Server.ScalarAsync<long>(target, "SELECT nextval(pg_get_serial_sequence('public.actor', 'actor_id'))"));
        Assert.True(await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'") >= 10);
    }

    [Fact]
    public async Task EveryFallbackIsCastOnTheSourceAndKeepsTheValue()
    {
        var source = await fixture.NewDatabaseAsync("crdb_torture_src");
        await fixture.Server.ExecuteAsync(source, $$$"""
            {{{TortureTables.Postgres}}}
            ALTER TABLE "Torture Table" DROP COLUMN mo;
            INSERT INTO "Torture Table" (id, m, j, x, cidr_, mac, po, i4r, pt, n, ia, ta, tsv, tz, iv, bi, vb) VALUES
              (1, 92233720368547758.07, '{"b": 1,  "a": [1, 2]}', '<a>x</a>', '10.0.0.0/8', '08:00:2b:01:02:03', 7, '[1,10)', '(1.5,-2)',
               1234567890123456789012345678.0123456789, '{1,NULL,3}', '{"a b",NULL,""}', 'a fat cat', '12:00+05:30', '-178000000 years', B'1010', B'101'),
              (2, -92233720368547758.08, '[]', '<b/>', '::/0', 'ff:ff:ff:ff:ff:ff', 1, 'empty', '(0,0)', 'NaN', '{}', '{}', '', '00:00-12', '0', B'0000', B''),
              (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            """);
        var target = await fixture.NewDatabaseAsync("crdb_torture_dst");
        var (_, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate, dialect: new CockroachDialect(MissingPrimaryKey.Refuse));

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        // Each fallback's target value in its text form equals the source value in the form the fallback promises.
        const string sourceRow = "concat_ws('|', m::numeric, j::jsonb, x, cidr_::inet, mac, po, i4r, pt, n, ia, ta, tsv, tz, iv, bi, vb)";
        const string targetRow = "concat_ws('|', m, j, x, cidr_, mac, po, i4r, pt, n, ia, ta, tsv, tz, iv, bi, vb)";
        for (var id = 1; id <= 3; id++)
        {
            Assert.Equal(await fixture.Server.ScalarAsync<string>(source, $"SELECT {sourceRow} FROM \"Torture Table\" WHERE id = {id}"),
                await fixture.Server.ScalarAsync<string>(target, $"SELECT {targetRow} FROM \"Torture Table\" WHERE id = {id}"));
        }

        Assert.Equal("numeric|jsonb|text|inet|text|integer|text|text", await fixture.Server.ScalarAsync<string>(target,
            "SELECT string_agg(data_type, '|' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'Torture Table' AND column_name IN ('m', 'j', 'x', 'cidr_', 'mac', 'po', 'i4r', 'pt')"));
    }

    // CockroachDB documents no binary decoding for tsvector or tsquery: such a table is copied as CSV (COPY ... WITH CSV),
    // here with bytes, text needing quotes and NULLs beside them.
    [Fact]
    public async Task ATableWithATypeSentAsTextIsCopiedAsCsvValueForValue()
    {
        var source = await fixture.NewDatabaseAsync("crdb_text_src");
        await fixture.Server.ExecuteAsync(source, """
            CREATE TABLE docs (id int PRIMARY KEY, body tsvector, q tsquery, raw bytea, note text);
            INSERT INTO docs VALUES
              (1, 'a fat cat', 'fat & cat', '\x00ff0a', 'quote " comma , newline
            end'),
              (2, '', 'a | !b', '', '\N'),
              (3, NULL, NULL, NULL, NULL);
            """);
        var target = await fixture.NewDatabaseAsync("crdb_text_dst");
        var (plan, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate, dialect: new CockroachDialect(MissingPrimaryKey.Refuse));

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.True(Assert.Single(plan.Tables).Plan.IsSentAsText);
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "docs"), await LoadHarness.DigestAsync(fixture.Server, target, "docs"));
        Assert.Equal(3L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM docs"));
    }

    // Integer keys split by their bounds, others (UUIDs, strings: common CockroachDB keys) by their values in order. The
    // table was never analysed (a freshly restored source): its rows are counted, not estimated as none.
    [Theory]
    [InlineData("bigint", "g")]
    [InlineData("uuid", "md5(g::text)::uuid")]
    [InlineData("text", "CASE WHEN g % 2 = 0 THEN upper(md5(g::text)) ELSE md5(g::text) || 'é' END")]
    public async Task ALargeTableIsSplitIntoShardsThatEachFitOneCockroachDbTransaction(string keyType, string key)
    {
        var source = await fixture.NewDatabaseAsync("crdb_big_src");
        await fixture.Server.ExecuteAsync(source,
            $"CREATE TABLE big (id {keyType} PRIMARY KEY, v text); INSERT INTO big SELECT {key}, md5(g::text) FROM generate_series(1, 250000) g;");
        var target = await fixture.NewDatabaseAsync("crdb_big_dst");
        var (_, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate with { ShardsPerTable = 2 },
            dialect: new CockroachDialect(MissingPrimaryKey.Refuse));

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, source, "big"), await LoadHarness.DigestAsync(fixture.Server, target, "big"));
        Assert.Equal(3L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM _molt.fetch_shards WHERE source_table = 'public.big'"));
        Assert.True(await fixture.Server.ScalarAsync<long>(target, "SELECT max(rows_loaded) FROM _molt.fetch_shards") <= CockroachDialect.RowsPerTransaction);
    }

    [Fact]
    public async Task ATableWithoutAPrimaryKeyIsRefusedBeforeAnythingIsWrittenUnlessAllowed()
    {
        var source = await fixture.NewDatabaseAsync("crdb_nopk_src");
        await fixture.Server.ExecuteAsync(source, "CREATE TABLE keyed (id int PRIMARY KEY); CREATE TABLE loose (v text); INSERT INTO loose VALUES ('a'), ('a'), (NULL);");
        var target = await fixture.NewDatabaseAsync("crdb_nopk_dst");

        var refused = await Assert.ThrowsAsync<MoltException>(() =>
            LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate, dialect: new CockroachDialect(MissingPrimaryKey.Refuse)));
        Assert.Equal(("MissingPrimaryKey", MoltErrorKind.SchemaMismatch), (refused.ErrorId, refused.Kind));
        Assert.Contains("public.loose", refused.Message);
        Assert.Contains("-AllowMissingPrimaryKey", refused.Remedy);
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'"));
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM pg_class WHERE relname IN ('keyed', 'loose')"));

        var (plan, summary, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(target), Recreate with { AllowMissingPrimaryKey = true },
            dialect: new CockroachDialect(MissingPrimaryKey.AddRowId));
        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Contains("hidden rowid", plan.Tables.Single(t => t.Plan.Source.Name.Name == "loose").Warning);
        Assert.Equal(3L, await fixture.Server.ScalarAsync<long>(target, "SELECT count(*) FROM loose"));
    }

    [Fact]
    public async Task APrimaryKeyCannotBeDeferredOnCockroachDb()
    {
        var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(Uri("pagila"), Uri("postgres"),
            Recreate with { DeferPrimaryKey = true }, dialect: new CockroachDialect(MissingPrimaryKey.Refuse)));
        Assert.Equal(("DeferPrimaryKeyNotSupported", MoltErrorKind.InvalidArgument), (error.ErrorId, error.Kind));
    }

    [Fact]
    public async Task BatchedDeletesRemoveExactlyTheRowsByTheirCompositeKey()
    {
        var database = await fixture.NewDatabaseAsync("crdb_delete");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE \"Pairs\" (\"A\" int, b text, PRIMARY KEY (\"A\", b)); INSERT INTO \"Pairs\" SELECT g % 10, g::text FROM generate_series(1, 100) g;");
        var dialect = new CockroachDialect(MissingPrimaryKey.Refuse);
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(dialect.DeleteByKeys(new TableName("public", "Pairs"), ["A", "b"], 3), connection)
        {
            Parameters = { new("p0", 1), new("p1", "1"), new("p2", 2), new("p3", "12"), new("p4", 3), new("p5", "no such row") },
        };

        Assert.Equal(2, await command.ExecuteNonQueryAsync());
        Assert.Equal(98L, await fixture.Server.ScalarAsync<long>(database, "SELECT count(*) FROM \"Pairs\""));
    }

    private string Uri(string database) => fixture.Server.ConnectionUri(database);
}

[Collection(MySqlSourceCollection.Name)]
public sealed class CockroachMySqlSharedSpellingTests(MySqlSourceFixture fixture)
{
    [Fact]
    public async Task SakilaLoadsWithItsKeysConstraintsAndIdentities()
    {
        var target = await fixture.NewTargetAsync("crdb_sakila");
        var (plan, summary, _, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri("sakila"), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate }, dialect: new CockroachDialect(MissingPrimaryKey.Refuse));

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        await SakilaChecks.AssertArrivedWholeAsync(fixture, target, plan);
        Assert.Equal("character varying|integer|smallint|timestamp with time zone", await fixture.Target.ScalarAsync<string>(target,
            "SELECT string_agg(DISTINCT data_type, '|' ORDER BY data_type) FROM information_schema.columns WHERE table_name IN ('actor', 'category')"));
    }
}
