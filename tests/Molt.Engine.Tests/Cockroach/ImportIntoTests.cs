using System.Globalization;
using System.Net;
using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Molt.Engine.Tests.Load;
using Molt.Testing;
using Npgsql;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// The IMPORT INTO path with the CockroachDB dialect forced onto PostgreSQL: the shards are really exported as CSV, the
/// IMPORT INTO statement (CockroachDB's alone) fails on PostgreSQL and is recorded, and the files it left are then
/// loaded with PostgreSQL's COPY ... (FORMAT csv, NULL '\N'), the CSV spelling both servers share, and compared with
/// what the binary COPY path loaded from the same source.
/// </summary>
internal static class ImportHarness
{
    public static readonly CockroachDialect Dialect = new(MissingPrimaryKey.Refuse);

    /// <summary>Loads by COPY into one database and by the import path into another; returns the import's summary and files.</summary>
    public static async Task<(BulkLoadSummary Summary, List<TableLoadResult> Tables, string[] Files)> ExportAsync(string sourceUri, string targetUri,
        BulkLoadOptions options, SourceOptions? sourceOptions = null)
    {
        var folder = Directory.CreateTempSubdirectory("molt-import-").FullName;
        var import = ImportIntoOptions.From(folder, "https://files.example/molt?AUTH=implicit", null);
        var (_, summary, tables, _) = await LoadHarness.LoadAsync(sourceUri, targetUri, options with { Import = import }, sourceOptions: sourceOptions,
            dialect: Dialect);
        return (summary, tables, Directory.GetFiles(folder, "*.csv", SearchOption.AllDirectories).Order().ToArray());
    }

    /// <summary>What IMPORT INTO would have done, done by PostgreSQL's CSV COPY.</summary>
    public static async Task CopyCsvAsync(string connectionString, string table, IReadOnlyList<string> columns, IEnumerable<string> files)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var file in files)
        {
            await using var writer = await connection.BeginTextImportAsync(
                $"COPY {table} ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) FROM STDIN (FORMAT csv, NULL '\\N')");
            await writer.WriteAsync(await File.ReadAllTextAsync(file));
        }
    }
}

[Collection(PostgresSourceCollection.Name)]
public sealed class PostgresImportIntoTests(PostgresSourceFixture fixture)
{
    private static readonly BulkLoadOptions Recreate = new() { TableHandling = TableHandling.DropAndRecreate, ShardsPerTable = 3, MinRowsPerShard = 1 };

    [Fact]
    public async Task EveryShardIsExportedAsCsvThatLoadsTheSameRowsAsCopy()
    {
        var source = await fixture.NewDatabaseAsync("import_src");
        await fixture.Server.ExecuteAsync(source, $$$"""
            {{{TortureTables.Postgres}}}
            ALTER TABLE "Torture Table" DROP COLUMN mo;
            INSERT INTO "Torture Table" (id, s, n, m, t, vc, c, "MixedCase", by, bo, da, ti, tz, ts, tstz, iv, u, j, jb, x, inet_, cidr_, mac, bi, vb, ia, ta, po, i4r, pt, tsv, ol)
            SELECT g, g % 100, g / 7.0, g, E'line\nbreak, "quoted" \\N ' || g, '', 'ab', CASE WHEN g % 2 = 0 THEN '\N' END, '\x00ff'::bytea, g % 2 = 0, '2024-02-29',
                   '23:59:59.999999', '12:00+05:30', '2024-01-01 00:00:00.123456', '1970-01-01 00:00:00+00', '1 day 2 hours', gen_random_uuid(),
                   '{"a": [1, "x,y"]}', '{"b": null}', '<a>x</a>', '::1', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'101', '{1,NULL,3}',
                   '{"a b",NULL,"","c,d"}', 7, '[1,10)', '(1.5,-2)', 'a fat cat', 42
            FROM generate_series(1, 3000) g;
            INSERT INTO "Torture Table" (id) VALUES (0);
            ANALYZE "Torture Table";
            """);
        var copied = await fixture.NewDatabaseAsync("import_copy");
        var (_, copy, _, _) = await LoadHarness.LoadAsync(Uri(source), Uri(copied), Recreate, dialect: ImportHarness.Dialect);
        Assert.Equal(RunStatus.Succeeded, copy.Status);

        var imported = await fixture.NewDatabaseAsync("import_csv");
        var (summary, tables, files) = await ImportHarness.ExportAsync(Uri(source), Uri(imported), Recreate);

        // PostgreSQL does not know IMPORT INTO: the table fails with that error recorded, and nothing was marked done.
        Assert.Equal(RunStatus.Failed, summary.Status);
        var table = Assert.Single(tables);
        Assert.Equal((TableLoadStatus.Failed, 0L), (table.Status, table.Rows));
        Assert.Contains("IMPORT INTO failed", table.Error);
        Assert.StartsWith("IMPORT INTO failed: syntax error", await fixture.Server.ScalarAsync<string>(imported,
            "SELECT string_agg(message, ' ') FROM _molt.fetch_exceptions"));
        Assert.Equal(0L, await fixture.Server.ScalarAsync<long>(imported, "SELECT count(*) FROM _molt.fetch_shards WHERE status = 'done'"));
        Assert.Equal(3, files.Length);
        Assert.All(files, f => Assert.Matches(@"public\.Torture~0020Table\.\d\.csv$", f));

        var columns = (await fixture.Server.ScalarAsync<string>(copied,
            "SELECT string_agg(column_name::text, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'Torture Table'"))!.Split(',');
        await ImportHarness.CopyCsvAsync(fixture.Server.ConnectionString(imported), "public.\"Torture Table\"", columns, files);
        Assert.Equal(await LoadHarness.DigestAsync(fixture.Server, copied, "public.\"Torture Table\""),
            await LoadHarness.DigestAsync(fixture.Server, imported, "public.\"Torture Table\""));
        Assert.Equal(3001L, await fixture.Server.ScalarAsync<long>(imported, "SELECT count(*) FROM \"Torture Table\""));
    }

    [Fact]
    public async Task APostgresTargetRefusesTheImportPathBeforeAnythingIsWritten()
    {
        var error = await Assert.ThrowsAsync<MoltException>(() => LoadHarness.LoadAsync(Uri("pagila"), Uri("postgres"),
            Recreate with { Import = ImportIntoOptions.From("/tmp", "http://localhost:3000", null) }));
        Assert.Equal(("ImportIntoNotSupported", MoltErrorKind.InvalidArgument), (error.ErrorId, error.Kind));
    }

    private string Uri(string database) => fixture.Server.ConnectionUri(database);
}

[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlImportIntoTests(MySqlSourceFixture fixture)
{
    [Fact]
    public async Task SakilaAndTheTortureTableExportAsCsvThatLoadsTheSameRowsAsCopy()
    {
        const string database = "import_torture";
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, $$"""
            {{TortureTables.MySql}}
            {{TortureTables.MySqlRows}}
            INSERT INTO `Torture` (id, vc, l1, tx, e, st) VALUES (4, 'héllo, "😀"', '\\N', 'a\r\nb', 'Large', 'a,b,c');
            """);
        foreach (var (sourceDatabase, table) in new[] { (database, "Torture"), ("sakila", "rental"), ("sakila", "film") })
        {
            var options = new BulkLoadOptions
            {
                TableHandling = TableHandling.DropAndRecreate, ShardsPerTable = 2, MinRowsPerShard = 1, Filter = new TableFilter(tables: [table]),
            };
            var copied = await fixture.NewTargetAsync("import_copy");
            var (_, copy, _, _) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(sourceDatabase), fixture.Target.ConnectionUri(copied), options,
                dialect: ImportHarness.Dialect);
            Assert.Equal(RunStatus.Succeeded, copy.Status);

            var imported = await fixture.NewTargetAsync("import_csv");
            var (summary, _, files) = await ImportHarness.ExportAsync(fixture.Source.ConnectionUri(sourceDatabase), fixture.Target.ConnectionUri(imported), options);
            Assert.Equal(RunStatus.Failed, summary.Status);
            Assert.NotEmpty(files);

            var columns = (await fixture.Target.ScalarAsync<string>(copied,
                $"SELECT string_agg(column_name::text, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '{table}'"))!.Split(',');
            await ImportHarness.CopyCsvAsync(fixture.Target.ConnectionString(imported), $"public.\"{table}\"", columns, files);
            Assert.Equal(await LoadHarness.DigestAsync(fixture.Target, copied, $"public.\"{table}\""),
                await LoadHarness.DigestAsync(fixture.Target, imported, $"public.\"{table}\""));
        }
    }
}

[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlImportRejectionTests(MySqlSourceFixture fixture)
{
    [Fact]
    public async Task ARowRefusedDuringTheExportFailsItsTableWithTheRowsKey()
    {
        const string database = "import_reject";
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            SET SESSION sql_mode = '';
            CREATE TABLE events (id INT PRIMARY KEY, happened DATETIME NULL);
            INSERT INTO events VALUES (1, '2024-05-01 10:00:00'), (2, '0000-00-00 00:00:00');
            CREATE TABLE others (id INT PRIMARY KEY);
            """);
        var target = await fixture.NewTargetAsync("import_reject");
        var (summary, tables, _) = await ImportHarness.ExportAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, FetchId = "import-reject" },
            new SourceOptions { ZeroDates = ZeroDateHandling.Reject });

        Assert.Equal(RunStatus.Failed, summary.Status);
        Assert.Contains("zero date", tables.Single(t => t.Table.Name == "events").Error);
        Assert.Equal("id=2", await fixture.Target.ScalarAsync<string>(target,
            "SELECT row_key FROM _molt.fetch_exceptions WHERE fetch_id = 'import-reject' AND source_table LIKE '%events'"));
    }
}

public sealed class ImportFileServerTests
{
    [Fact]
    public async Task FilesOfTheFolderAreServedAndNothingOutsideIt()
    {
        var folder = Directory.CreateTempSubdirectory("molt-serve-").FullName;
        Directory.CreateDirectory(Path.Combine(folder, "run"));
        await File.WriteAllTextAsync(Path.Combine(folder, "run", "public.t.0.csv"), "1,\"a,b\"\n2,\\N\n");
        await File.WriteAllTextAsync(Path.Combine(Path.GetDirectoryName(folder)!, "molt-secret.txt"), "secret");
        var address = $"127.0.0.1:{FreePort()}";
        await using var server = ImportFileServer.Start(folder, address);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{address}/") };

        Assert.Equal("1,\"a,b\"\n2,\\N\n", await http.GetStringAsync("run/public.t.0.csv"));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("run/missing.csv")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("run/%2e%2e/%2e%2e/molt-secret.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("run/public.t.0.csv", new StringContent("x"))).StatusCode);
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public void AnAddressInUseIsAClearError()
    {
        var address = $"127.0.0.1:{FreePort()}";
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, int.Parse(address.Split(':')[1], CultureInfo.InvariantCulture));
        taken.Start();
        var error = Assert.Throws<MoltException>(() => ImportFileServer.Start(Path.GetTempPath(), address));
        Assert.Equal("ImportListenFailed", error.ErrorId);
    }
}

public sealed class ImportIntoOptionsTests
{
    [Fact]
    public void FileUrlsKeepTheCloudStorageQueryAtTheEnd()
    {
        Assert.Equal("s3://bucket/molt/run/t.0.csv?AUTH=implicit", new ImportIntoOptions("/x", "s3://bucket/molt/?AUTH=implicit").UrlOf("run/t.0.csv"));
        Assert.Equal("http://host:3000/run/t.0.csv", ImportIntoOptions.From("/x", null, "host:3000")!.UrlOf("run/t.0.csv"));
    }

    [Theory]
    [InlineData(null, "http://h", null, "ImportNeedsPath")]
    [InlineData("/x", null, null, "ImportNeedsUrl")]
    [InlineData("/x", null, "0.0.0.0:3000", "ImportNeedsUrl")]
    public void IncompleteImportParametersAreRefused(string? path, string? url, string? listen, string errorId) =>
        Assert.Equal(errorId, Assert.Throws<MoltException>(() => ImportIntoOptions.From(path, url, listen)).ErrorId);

    [Fact]
    public void WithoutAnyImportParameterTheLoadUsesCopy() => Assert.Null(ImportIntoOptions.From(null, null, null));

    [Fact]
    public void TheStatementNamesEveryColumnAndFileAndTheNullMarker()
    {
        var table = new TableModel(new TableName("app", "O'Brien"), [new ColumnModel("id", 1, new ColumnType("bigint", "bigint"), false)], ["id"]);
        var plan = TablePlanner.Plan(table, table.Name, ImportHarness.Dialect, SqlSyntax.Postgres, TypeMapOverrides.None);
        Assert.Equal("""IMPORT INTO "app"."O'Brien" ("id") CSV DATA ('http://h/a.csv', 'http://h/it''s.csv') WITH nullif = '\N'""",
            ImportHarness.Dialect.ImportInto(plan, ["http://h/a.csv", "http://h/it's.csv"]));
    }
}
