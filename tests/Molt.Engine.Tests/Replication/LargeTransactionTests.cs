using System.Diagnostics;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.State;
using Molt.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Molt.Engine.Tests.Replication;

/// <summary>A server of its own, and no other test running beside it: the memory it measures is this stream's alone.</summary>
public sealed class LargeTransactionFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    // WAL of a 5M-row update is about 1 GB: room for it between checkpoints, so the source does not checkpoint mid-update.
    public async Task InitializeAsync() =>
        Server = await PostgresServer.StartAsync(new PostgresServerOptions { ExtraSettings = new Dictionary<string, string> { ["max_wal_size"] = "4GB" } });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LargeTransactionCollection : ICollectionFixture<LargeTransactionFixture>
{
    public const string Name = "replication large transaction (alone)";
}

/// <summary>One source transaction far larger than a batch, streamed through the replication loop into a PostgreSQL target.</summary>
[Collection(LargeTransactionCollection.Name)]
public sealed class LargeTransactionTests(LargeTransactionFixture fixture, ITestOutputHelper output)
{
    private const int Rows = 5_000_000;
    private const string FetchId = "large";

    /// <summary>
    /// Held in memory, the transaction's 5M changes take about 1 GB (BatchLog.Size: some 200 bytes a change). What the
    /// stream may hold instead is bounded whatever the transaction's size: the batch log's 8 MiB before it spills, one
    /// multi-row statement of 10,000 rows (4 MiB of values at most) and its parameters, Npgsql's buffers. 160 MiB over
    /// the heap before the update is a fifth of what holding the transaction would take, and several times what the
    /// stream should need, so the test fails on anything that grows with the transaction and not on the GC's timing.
    /// </summary>
    private const long HeapGrowthBound = 160L * 1024 * 1024;

    /// <summary>The process's resident memory may grow by the heap's bound plus what the GC keeps mapped for reuse.</summary>
    private const long WorkingSetGrowthBound = 320L * 1024 * 1024;

    private const string Digest = """
        SELECT concat_ws(',', count(*), sum("n"), md5(string_agg("id"::text || ':' || "n"::text, ',' ORDER BY "id"))) FROM "big"
        """;

    [Fact]
    public async Task A_five_million_row_update_in_one_source_transaction_streams_into_the_target_in_bounded_memory_and_leaves_it_identical()
    {
        var clock = Stopwatch.StartNew();
        var server = fixture.Server;
        const string sourceDb = "large_src";
        const string targetDb = "large_dst";
        await server.CreateDatabaseAsync(sourceDb);
        await server.CreateDatabaseAsync(targetDb);
        await ExecuteAsync(sourceDb, $"""
            CREATE TABLE "big" ("id" bigint PRIMARY KEY, "n" int NOT NULL);
            INSERT INTO "big" SELECT g, g % 1000 FROM generate_series(1, {Rows}) g;
            """);
        await ExecuteAsync(sourceDb, """VACUUM ANALYZE "big" """);
        var sourceAddress = EndpointAddress.Parse(server.ConnectionUri(sourceDb));
        var targetAddress = EndpointAddress.Parse(server.ConnectionUri(targetDb));
        var options = new ReplicationOptions
        {
            FetchId = FetchId,
            Load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate },
            StatusInterval = TimeSpan.FromMilliseconds(500),
        };
        using var log = MoltLogSession.None();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        var states = new List<ReplicationState>();
        BulkLoadSummary? loaded = null;
        output.WriteLine($"source filled: {clock.Elapsed.TotalSeconds:F1} s");

        ReplicationStatus stopped;
        MemoryPeak peak;
        TimeSpan updated, applied;
        await using (var session = await ReplicationSession.OpenAsync(sourceAddress, targetAddress, options, log, timeout.Token))
        {
            var running = session.StartAsync(await session.PlanAsync(timeout.Token), new BulkLoadCallbacks(), summary => loaded = summary, new StateReports(states),
                timeout.Token);
            // The load of 5M rows comes first; on a machine shared with other work it may take minutes.
            await SessionTestSupport.WaitUntilAsync(() => Task.FromResult(Streaming(states) || running.IsCompleted), TimeSpan.FromMinutes(5));
            Assert.False(running.IsFaulted, running.Exception?.ToString());
            Assert.Equal(RunStatus.Succeeded, loaded!.Status);
            output.WriteLine($"loaded and streaming: {clock.Elapsed.TotalSeconds:F1} s");

            using var sampling = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            var sampler = MemoryPeak.SampleAsync(TimeSpan.FromMilliseconds(100), sampling.Token);
            var profiler = CpuProfile.SampleAsync(server, sourceDb, targetDb, TimeSpan.FromMilliseconds(200), sampling.Token);
            var phase = Stopwatch.StartNew();
            await ExecuteAsync(sourceDb, """UPDATE "big" SET "n" = "n" + 1""");
            updated = phase.Elapsed;
            // The stop drains to the source's end as it is now: past the update's commit.
            await ReplicationControl.RequestStopAsync(targetAddress, FetchId, immediately: false, timeout.Token);
            stopped = await running;
            applied = phase.Elapsed - updated;
            await sampling.CancelAsync();
            peak = await sampler;
            output.WriteLine((await profiler).ToString());
        }

        output.WriteLine($"update on the source {updated.TotalSeconds:F1} s; streamed and applied after its commit {applied.TotalSeconds:F1} s; {peak}");
        Assert.Equal(ReplicationState.Stopped, stopped.State);
        Assert.Equal(Rows, stopped.Updates);
        Assert.Equal(1, stopped.Transactions);
        Assert.Equal(await ScalarAsync(sourceDb, Digest), await ScalarAsync(targetDb, Digest));
        Assert.True(peak.HeapGrowth < HeapGrowthBound, $"The managed heap grew by {peak.HeapGrowth / (1 << 20)} MiB while the transaction streamed (bound {HeapGrowthBound >> 20} MiB).");
        Assert.True(peak.WorkingSetGrowth < WorkingSetGrowthBound,
            $"The working set grew by {peak.WorkingSetGrowth / (1 << 20)} MiB while the transaction streamed (bound {WorkingSetGrowthBound >> 20} MiB).");
        Assert.Equal((true, true), await ReplicationControl.RemoveAsync(sourceAddress, targetAddress, FetchId, null, null, timeout.Token));
        output.WriteLine($"test {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static bool Streaming(List<ReplicationState> states)
    {
        lock (states)
        {
            return states.Contains(ReplicationState.Streaming);
        }
    }

    // The server helpers' commands time out after 30 s; the fill, the update and the digests may take longer.
    private async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = await OpenAsync(database);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    private async Task<string?> ScalarAsync(string database, string sql)
    {
        await using var connection = await OpenAsync(database);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return (string?)await command.ExecuteScalarAsync();
    }

    private async Task<NpgsqlConnection> OpenAsync(string database)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(fixture.Server.ConnectionString(database)) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>
    /// Where the time goes, for a slow run: the CPU time of this process (decoding and building statements), of the source's
    /// walsender (decoding the WAL, spilling and reading back the transaction) and of the target backend that applies, and
    /// how often that backend was seen executing a statement or idle in its transaction (waiting for this process).
    /// </summary>
    private sealed class CpuProfile
    {
        private readonly Dictionary<(string Role, int Pid), long> ticks = [];
        private int applying;
        private int waiting;
        private TimeSpan ownCpu;

        public static async Task<CpuProfile> SampleAsync(PostgresServer server, string sourceDb, string targetDb, TimeSpan interval, CancellationToken cancellationToken)
        {
            var profile = new CpuProfile();
            using var process = Process.GetCurrentProcess();
            var ownBefore = process.TotalProcessorTime;
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString()) { Pooling = false }.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"""
                SELECT pid, CASE WHEN backend_type = 'walsender' THEN 'walsender'
                                 WHEN datname = '{targetDb}' THEN 'target' ELSE 'source' END, coalesce(state, '')
                FROM pg_stat_activity
                WHERE pid <> pg_backend_pid() AND (backend_type = 'walsender' AND datname = '{sourceDb}'
                   OR backend_type = 'client backend' AND backend_xid IS NOT NULL AND datname IN ('{sourceDb}', '{targetDb}'))
                """, connection);
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                    {
                        while (await reader.ReadAsync(cancellationToken))
                        {
                            var (pid, role, state) = (reader.GetInt32(0), reader.GetString(1), reader.GetString(2));
                            profile.ticks[(role, pid)] = CpuTicks(pid) ?? profile.ticks.GetValueOrDefault((role, pid));
                            if (role == "target")
                            {
                                _ = state == "active" ? profile.applying++ : profile.waiting++;
                            }
                        }
                    }

                    await Task.Delay(interval, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            process.Refresh();
            profile.ownCpu = process.TotalProcessorTime - ownBefore;
            return profile;
        }

        public override string ToString()
        {
            string Cpu(string role) => $"{ticks.Where(t => t.Key.Role == role).Sum(t => t.Value) / 100.0:F1} s";
            return $"CPU: this process {ownCpu.TotalSeconds:F1} s, source UPDATE backend {Cpu("source")}, walsender {Cpu("walsender")}, target backend {Cpu("target")}; " +
                   $"target transaction seen executing {applying}, idle waiting for Molt {waiting} of {applying + waiting} samples";
        }

        /// <summary>utime + stime of a process in clock ticks (100 a second on Linux), null once it is gone.</summary>
        private static long? CpuTicks(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// The highest managed heap (live after each collection: what the stream holds, not garbage awaiting the next one) and
    /// working set seen while sampling, over what they were when it began (after a full collection); and the highest heap
    /// including garbage, for the record.
    /// </summary>
    private sealed record MemoryPeak(long HeapBefore, long HeapPeak, long WorkingSetBefore, long WorkingSetPeak, long WithGarbagePeak)
    {
        public long HeapGrowth => HeapPeak - HeapBefore;

        public long WorkingSetGrowth => WorkingSetPeak - WorkingSetBefore;

        public static async Task<MemoryPeak> SampleAsync(TimeSpan interval, CancellationToken cancellationToken)
        {
            using var process = Process.GetCurrentProcess();
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            var workingSetBefore = process.WorkingSet64;
            var (heapPeak, workingSetPeak, withGarbage) = (heapBefore, workingSetBefore, heapBefore);
            var nextLive = DateTime.UtcNow;
            while (!cancellationToken.IsCancellationRequested)
            {
                process.Refresh();
                // What is live, measured by a full collection every second: the heap size the last GC left depends on when
                // it ran (it counted 208 MiB of not yet collected objects in one run and 64 MiB in another).
                if (DateTime.UtcNow >= nextLive)
                {
                    heapPeak = Math.Max(heapPeak, GC.GetTotalMemory(forceFullCollection: true));
                    nextLive = DateTime.UtcNow.AddSeconds(1);
                }

                withGarbage = Math.Max(withGarbage, GC.GetTotalMemory(forceFullCollection: false));
                workingSetPeak = Math.Max(workingSetPeak, process.WorkingSet64);
                try
                {
                    await Task.Delay(interval, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            return new MemoryPeak(heapBefore, heapPeak, workingSetBefore, workingSetPeak, withGarbage);
        }

        public override string ToString() =>
            $"managed heap {HeapBefore >> 20} MiB before, peak after a collection {HeapPeak >> 20} MiB, peak with garbage {WithGarbagePeak >> 20} MiB; " +
            $"working set {WorkingSetBefore >> 20} MiB before, peak {WorkingSetPeak >> 20} MiB";
    }
}
