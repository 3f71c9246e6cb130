using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Metrics;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.State;
using Molt.Engine.Tests.Replication;
using Molt.Testing;

namespace Molt.Engine.Tests.Metrics;

/// <summary>The metrics page of a real load and a real stream (PostgreSQL source and target), and the server's address handling.</summary>
[Collection(ApplyTargetCollection.Name)]
public sealed class MetricsEndpointTests(ApplyTargetFixture fixture)
{
    private const string SourceSchema = """
        CREATE SCHEMA shop;
        CREATE TABLE shop.items (id int PRIMARY KEY, name text NOT NULL);
        CREATE TABLE shop.notes (id int PRIMARY KEY, note text);
        INSERT INTO shop.items SELECT g, 'item ' || g FROM generate_series(1, 1500) g;
        INSERT INTO shop.notes SELECT g, repeat('n', g) FROM generate_series(1, 40) g;
        """;

    private static string Loopback() => $"127.0.0.1:{FreePort.Pick().ToString(CultureInfo.InvariantCulture)}";

    [Fact]
    public async Task The_page_after_a_load_counts_each_tables_rows_and_bytes_as_the_results_say_and_names_no_user_password_or_database()
    {
        var server = fixture.Server;
        var sourceDb = $"metrics_load_{Guid.NewGuid():N}"[..24];
        await server.CreateDatabaseAsync(sourceDb);
        await server.ExecuteAsync(sourceDb, SourceSchema);
        await using var target = await fixture.NewTargetAsync("metrics_load_dst", "SELECT 1");
        using var log = MoltLogSession.None();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var session = await BulkLoadSession.OpenAsync(EndpointAddress.Parse(server.ConnectionUri(sourceDb)),
            EndpointAddress.Parse(server.ConnectionUri(target.Database)), new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate },
            new SourceOptions(), log, timeout.Token);
        var plan = await session.PlanAsync(timeout.Token);
        var address = Loopback();
        var results = new ConcurrentBag<TableLoadResult>();

        await using var endpoint = MetricsEndpoint.Start(address, plan.FetchId);
        var summary = await session.ExecuteAsync(plan, endpoint.ObserveLoad(new BulkLoadCallbacks { TableFinished = results.Add }), timeout.Token);
        var page = await Scrape.GetAsync(address);

        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal(2, results.Count);
        foreach (var result in results)
        {
            var table = ("table", result.Table.ToString());
            Assert.Equal(result.Rows, page.Value("molt_load_rows_total", ("fetch_id", plan.FetchId), table));
            Assert.Equal(result.Bytes, page.Value("molt_load_bytes_total", ("fetch_id", plan.FetchId), table));
        }

        Assert.Equal(1540, summary.Rows);
        Assert.Equal(summary.Rows, results.Sum(r => r.Rows));
        Assert.Equal(summary.Tables, page.Value("molt_load_tables_succeeded_total"));
        Assert.Equal(0, page.Value("molt_load_tables_failed_total"));
        Assert.Equal(0, page.Value("molt_errors_total"));
        Assert.Subset(new HashSet<string> { "fetch_id", "table", "kind", "state" }, page.LabelNames.ToHashSet());
        Assert.DoesNotContain(server.AdminPassword, page.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(server.AdminUser, page.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(sourceDb, page.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(target.Database, page.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_page_of_a_stream_counts_the_changes_and_transactions_its_status_reports_and_shows_its_lag_and_state()
    {
        var server = fixture.Server;
        var sourceDb = $"metrics_repl_{Guid.NewGuid():N}"[..24];
        await server.CreateDatabaseAsync(sourceDb);
        await server.ExecuteAsync(sourceDb, SourceSchema);
        await using var target = await fixture.NewTargetAsync("metrics_repl_dst", "SELECT 1");
        var targetAddress = EndpointAddress.Parse(server.ConnectionUri(target.Database));
        var options = new ReplicationOptions
        {
            FetchId = "metrics",
            Load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate },
            StatusInterval = TimeSpan.FromMilliseconds(200),
        };
        using var log = MoltLogSession.None();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var states = new List<ReplicationState>();
        var address = Loopback();
        await using var session = await ReplicationSession.OpenAsync(EndpointAddress.Parse(server.ConnectionUri(sourceDb)), targetAddress, options, log, timeout.Token);
        var plan = await session.PlanAsync(timeout.Token);
        await using var endpoint = MetricsEndpoint.Start(address, session.FetchId);

        var running = session.StartAsync(plan, endpoint.ObserveLoad(new BulkLoadCallbacks()), _ => { }, endpoint.ObserveStream(new StateReports(states)), timeout.Token);
        await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(states.Contains(ReplicationState.Streaming) || running.IsCompleted));
        Assert.False(running.IsFaulted, running.Exception?.ToString());
        Assert.Equal(1, (await Scrape.GetAsync(address)).Value("molt_replication_state", ("state", "Streaming")));
        await server.ExecuteAsync(sourceDb, """
            INSERT INTO shop.items SELECT g, 'new ' || g FROM generate_series(2001, 2030) g;
            UPDATE shop.items SET name = 'renamed' WHERE id <= 12;
            DELETE FROM shop.notes WHERE id <= 5;
            BEGIN; INSERT INTO shop.notes VALUES (100, 'x'); DELETE FROM shop.items WHERE id = 1500; COMMIT;
            """);
        // Seen while the stream runs, before any stop: counted from the statuses the stream reports every interval.
        await SessionTestSupport.WaitUntilAsync(async () => (await Scrape.GetAsync(address)).Value("molt_replication_changes_total", ("kind", "insert")) == 31);
        var streaming = await Scrape.GetAsync(address);
        Assert.True(streaming.Has("molt_replication_lag_seconds"));
        Assert.True(streaming.Has("molt_replication_lag_bytes"));

        await ReplicationControl.RequestStopAsync(targetAddress, "metrics", immediately: false, timeout.Token);
        var stopped = await running;
        var page = await Scrape.GetAsync(address);

        var fetch = ("fetch_id", "metrics");
        Assert.Equal((31L, 12L, 6L), (stopped.Inserts, stopped.Updates, stopped.Deletes));
        Assert.True(stopped.Transactions > 0);
        Assert.Equal(stopped.Inserts, page.Value("molt_replication_changes_total", fetch, ("kind", "insert")));
        Assert.Equal(stopped.Updates, page.Value("molt_replication_changes_total", fetch, ("kind", "update")));
        Assert.Equal(stopped.Deletes, page.Value("molt_replication_changes_total", fetch, ("kind", "delete")));
        Assert.Equal(stopped.Transactions, page.Value("molt_replication_transactions_total", fetch));
        Assert.Equal(stopped.LagBytes, (long)page.Value("molt_replication_lag_bytes", fetch));
        Assert.Equal(stopped.LagSeconds!.Value, page.Value("molt_replication_lag_seconds", fetch), 6);
        Assert.Equal(stopped.LastCommitAt!.Value.ToUnixTimeMilliseconds() / 1000.0, page.Value("molt_replication_last_commit_timestamp_seconds", fetch), 3);
        Assert.Equal(1, page.Value("molt_replication_state", fetch, ("state", "Stopped")));
        Assert.Equal(0, page.Value("molt_replication_state", fetch, ("state", "Streaming")));
        Assert.Equal(0, page.Value("molt_replication_retries_total", fetch));
        Assert.Equal(1540, page.Value("molt_load_rows_total", fetch, ("table", "shop.items")) + page.Value("molt_load_rows_total", fetch, ("table", "shop.notes")));
        Assert.DoesNotContain(server.AdminPassword, page.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(server.AdminUser, page.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_whose_source_connection_was_lost_counts_the_retry_in_its_status_and_on_its_page()
    {
        await using var target = await fixture.NewTargetAsync("metrics_retry", "CREATE TABLE events (n integer, note text)");
        var events = Apply.Plan("public", "events", [], ("n", "integer"), ("note", "text"));
        var table = Apply.Table(events, full: true);
        var source = new FakeChangeSource { FailAfterChanges = 3 };
        source.Commit(Apply.Insert(table, "1", "a"), Apply.Insert(table, "2", "b"));
        var last = source.Commit(Apply.Insert(table, "3", "c"), Apply.Insert(table, "4", "d"));
        var address = Loopback();
        await using var endpoint = MetricsEndpoint.Start(address, "retry");

        var final = await target.RunAsync(source, [events], new ReplicationOptions { StopAt = last.ToString() }, "retry", endpoint.ObserveStream(null));
        var page = await Scrape.GetAsync(address);

        Assert.Equal(2, source.Starts);
        Assert.Equal(1, final.Retries);
        Assert.Equal(1, page.Value("molt_replication_retries_total", ("fetch_id", "retry")));
        Assert.Equal(1, page.Value("molt_errors_total", ("fetch_id", "retry")));
        Assert.Equal(4, page.Value("molt_replication_changes_total", ("kind", "insert")));
    }

    [Fact]
    public async Task Two_runs_in_one_process_keep_their_counters_apart_and_a_stopped_server_closes_its_port()
    {
        var (first, second) = (Loopback(), Loopback());
        var one = MetricsEndpoint.Start(first, "one");
        await using (var two = MetricsEndpoint.Start(second, "two"))
        {
            one.ObserveStream(null).Report(new ReplicationStatus("one", ReplicationState.Streaming, DateTimeOffset.UtcNow) { Inserts = 7, Transactions = 2 });

            Assert.Equal(7, (await Scrape.GetAsync(first)).Value("molt_replication_changes_total", ("fetch_id", "one"), ("kind", "insert")));
            var other = await Scrape.GetAsync(second);
            Assert.Equal(0, other.Value("molt_replication_changes_total", ("fetch_id", "two"), ("kind", "insert")));
            Assert.DoesNotContain("\"one\"", other.Text, StringComparison.Ordinal);
        }

        await one.DisposeAsync();
        using var client = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, int.Parse(first.Split(':')[1], CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void An_address_in_use_is_refused_with_its_error_id_and_a_remedy()
    {
        var address = Loopback();
        using var taken = new TcpListener(IPAddress.Loopback, int.Parse(address.Split(':')[1], CultureInfo.InvariantCulture));
        taken.Start();

        var error = Assert.Throws<MoltException>(() => MetricsEndpoint.Start(address, "busy"));

        Assert.Equal(("MetricsListenFailed", MoltErrorKind.InUse, address), (error.ErrorId, error.Kind, error.Target));
        Assert.Contains("-MetricsListenAddress", error.Remedy, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("9464")]
    [InlineData("localhost")]
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("127.0.0.1:http")]
    [InlineData("::1:9464")]
    [InlineData("[nonsense]:9464")]
    [InlineData("http://127.0.0.1:9464")]
    [InlineData("a b:9464")]
    public void An_address_that_is_not_host_and_port_is_refused_before_anything_listens(string address)
    {
        var error = Assert.Throws<MoltException>(() => MetricsEndpoint.Start(address, "bad"));

        Assert.Equal(("MetricsAddressInvalid", MoltErrorKind.InvalidArgument), (error.ErrorId, error.Kind));
        Assert.Contains("host:port", error.Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_IPv6_loopback_address_in_brackets_is_served()
    {
        var address = $"[::1]:{FreePort.Pick().ToString(CultureInfo.InvariantCulture)}";
        await using var endpoint = MetricsEndpoint.Start(address, "six");

        Assert.Equal(0, (await Scrape.GetAsync(address)).Value("molt_replication_transactions_total", ("fetch_id", "six")));
    }
}
