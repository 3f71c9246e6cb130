using System.Diagnostics;
using Molt.Testing;
using Npgsql;

namespace Molt.Engine.Tests.Testing;

/// <summary>A real PostgreSQL server for the test tools' own tests.</summary>
public sealed class TestToolsServerFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class TestToolsServerCollection : ICollectionFixture<TestToolsServerFixture>
{
    public const string Name = "test tools server";
}

/// <summary>The fault proxy between Npgsql and a real PostgreSQL: what a client sees when the proxy cuts, resets, stalls and refuses.</summary>
[Collection(TestToolsServerCollection.Name)]
public sealed class TcpFaultProxyTests(TestToolsServerFixture fixture)
{
    [Fact]
    public async Task Queries_through_the_proxy_reach_the_server_and_each_connection_is_counted()
    {
        await using var proxy = TcpFaultProxy.Start(fixture.Server.Host, fixture.Server.Port);
        await using (var first = await OpenAsync(proxy))
        {
            Assert.Equal(fixture.Server.Port, await ScalarAsync<int>(first, "SELECT inet_server_port()"));
            await using var second = await OpenAsync(proxy);
            Assert.Equal(2, await ScalarAsync<int>(second, "SELECT 2"));
            Assert.Equal((2L, 2), (proxy.ConnectionsAccepted, proxy.OpenConnections));
        }

        await WaitUntilAsync(() => proxy.OpenConnections == 0);
    }

    [Fact]
    public async Task A_cut_makes_a_running_query_fail_at_once_and_a_new_connection_works()
    {
        await using var proxy = TcpFaultProxy.Start(fixture.Server.Host, fixture.Server.Port);
        await using var connection = await OpenAsync(proxy);
        var clock = Stopwatch.StartNew();
        var sleeping = ScalarAsync<string>(connection, "SELECT pg_sleep(30)::text");
        await WaitForActiveQueryAsync("pg_sleep(30)");

        Assert.Equal(1, proxy.Cut());
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => sleeping);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"The cut query failed only after {clock.Elapsed}.");
        Assert.Equal(System.Data.ConnectionState.Closed, connection.State);

        await using var again = await OpenAsync(proxy);
        Assert.Equal(1, await ScalarAsync<int>(again, "SELECT 1"));
        Assert.Equal(2L, proxy.ConnectionsAccepted);
    }

    [Fact]
    public async Task A_reset_makes_a_running_query_fail_and_the_server_ends_the_session()
    {
        await using var proxy = TcpFaultProxy.Start(fixture.Server.Host, fixture.Server.Port);
        await using var connection = await OpenAsync(proxy);
        var pid = await ScalarAsync<int>(connection, "SELECT pg_backend_pid()");
        var sleeping = ScalarAsync<string>(connection, "SELECT pg_sleep(30)::text");
        await WaitForActiveQueryAsync("pg_sleep(30)");

        Assert.Equal(1, proxy.Reset());
        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() => sleeping);
        Assert.Contains("reset", error.ToString(), StringComparison.OrdinalIgnoreCase);
        // The server side was reset too: its backend notices at its next write and goes away, as after a crash of the client.
        await WaitUntilAsync(async () => await fixture.Server.ScalarAsync<long>("postgres", $"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}") == 0);
    }

    [Fact]
    public async Task A_stall_makes_a_query_hang_with_the_connection_open_until_resume_delivers_its_result()
    {
        await using var proxy = TcpFaultProxy.Start(fixture.Server.Host, fixture.Server.Port);
        await using var connection = await OpenAsync(proxy);
        proxy.Stall();
        var query = ScalarAsync<int>(connection, "SELECT 42");

        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(query.IsCompleted, "The query completed through a stalled proxy.");
        Assert.Equal((true, 1), (proxy.IsStalled, proxy.OpenConnections));

        proxy.Resume();
        Assert.Equal(42, await query.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(43, await ScalarAsync<int>(connection, "SELECT 43"));
    }

    [Fact]
    public async Task Discarding_a_clients_bytes_still_delivers_the_servers_and_what_the_client_sent_then_never_reaches_the_server()
    {
        await using var proxy = TcpFaultProxy.Start(fixture.Server.Host, fixture.Server.Port);
        await using var other = await OpenAsync(proxy);
        await using var connection = await OpenAsync(proxy);
        var pid = await ScalarAsync<int>(connection, "SELECT pg_backend_pid()");
        var port = await ScalarAsync<int>(connection, "SELECT inet_client_port()");
        // A query sent before, held on a lock the other connection releases after: its result comes back all the same.
        await ScalarAsync<string>(other, "SELECT pg_advisory_lock(4242)::text");
        var waiting = ScalarAsync<int>(connection, "SELECT 7 FROM pg_advisory_lock(4242)");
        await WaitUntilAsync(async () => await fixture.Server.ScalarAsync<long>("postgres",
            $"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND wait_event_type = 'Lock'") == 1);

        Assert.False(proxy.DiscardFromClient(1));
        Assert.True(proxy.DiscardFromClient(port));
        Assert.True(await ScalarAsync<bool>(other, "SELECT pg_advisory_unlock(4242)"));
        Assert.Equal(7, await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        var lost = ScalarAsync<int>(connection, "CREATE TABLE discarded_probe (); SELECT 8");
        await WaitUntilAsync(() => proxy.BytesDiscarded > 0);

        // The session ends only after what reached it, in order: had the statement been passed on, the table would exist.
        proxy.Cut();
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => lost);
        await WaitUntilAsync(async () => await fixture.Server.ScalarAsync<long>("postgres", $"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}") == 0);
        Assert.False(await fixture.Server.ScalarAsync<bool>("postgres", "SELECT to_regclass('discarded_probe') IS NOT NULL"));
    }

    [Fact]
    public async Task Refusing_new_connections_fails_each_open_and_leaves_open_connections_working()
    {
        await using var proxy = TcpFaultProxy.Start(fixture.Server.Host, fixture.Server.Port);
        await using var open = await OpenAsync(proxy);
        proxy.RefuseNew(true);

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => OpenAsync(proxy));
        Assert.Equal((1L, 1L), (proxy.ConnectionsAccepted, proxy.ConnectionsRefused));
        Assert.Equal(7, await ScalarAsync<int>(open, "SELECT 7"));

        proxy.RefuseNew(false);
        await using var later = await OpenAsync(proxy);
        Assert.Equal(8, await ScalarAsync<int>(later, "SELECT 8"));
    }

    [Fact]
    public async Task A_server_that_is_down_behind_the_proxy_is_seen_as_a_refused_connection()
    {
        await using var down = await PostgresServer.StartAsync();
        var port = down.Port;
        await down.DisposeAsync();
        await using var proxy = TcpFaultProxy.Start("127.0.0.1", port);

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => OpenAsync(proxy));
        // Npgsql may try more than once before it gives up.
        Assert.Equal((0L, true), (proxy.ConnectionsAccepted, proxy.ConnectionsRefused >= 1));
    }

    private async Task<NpgsqlConnection> OpenAsync(TcpFaultProxy proxy)
    {
        var builder = new NpgsqlConnectionStringBuilder(fixture.Server.ConnectionString())
        {
            Host = proxy.Host, Port = proxy.Port, Pooling = false, Timeout = 5, CommandTimeout = 60,
            // Npgsql's default (Prefer) opens a second connection when the first one fails during its GSS encryption
            // request, so a refused open would count once or twice: one attempt per open keeps the counts exact.
            GssEncryptionMode = GssEncryptionMode.Disable,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Until the server runs the query, so that a fault lands while it is under way rather than before it was sent.</summary>
    private Task WaitForActiveQueryAsync(string text) =>
        WaitUntilAsync(async () => await fixture.Server.ScalarAsync<long>("postgres",
            $"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%{text}%' AND pid <> pg_backend_pid()") > 0);

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not come true within 30 s.");
            await Task.Delay(50);
        }
    }
}
