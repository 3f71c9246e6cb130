using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.Verify;
using Xunit.Abstractions;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// One failback into MariaDB of a fault test: a MariaDB database migrated into PostgreSQL with replication and cut over
/// (which leaves the failback slot), MariaDB triggers recording every row failback inserts or updates in the original's
/// <c>applied</c> table (in the batch's own transaction, so a batch applied twice leaves its rows twice), and the
/// failback's log kept for the retries it shows.
/// </summary>
internal sealed class MySqlFailbackRun : IAsyncDisposable
{
    private readonly List<MoltLogEvent> events = [];
    private readonly ITestOutputHelper output;
    private readonly MoltLogSession log;

    private MySqlFailbackRun(MySqlStreamCase test, string fetchId, ITestOutputHelper output)
    {
        Test = test;
        FetchId = fetchId;
        this.output = output;
        log = new MoltLogSession(Record, minimumLevel: MoltLogLevel.Debug);
    }

    public MySqlStreamCase Test { get; }

    public string FetchId { get; }

    /// <summary>
    /// Loads <paramref name="schemaSql"/>'s tables, streams them and stops at the cutover; then adds the audit triggers
    /// on <paramref name="audited"/> (table and key column: inserts and updates of each are recorded).
    /// </summary>
    public static async Task<MySqlFailbackRun> CutOverAsync(MySqlReplicationFixture fixture, string name, string schemaSql, ITestOutputHelper output,
        params (string Table, string Key)[] audited)
    {
        var test = await fixture.NewCaseAsync(name, schemaSql);
        var run = new MySqlFailbackRun(test, name.Replace('_', '-'), output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (session, running) = await test.StartAsync(MySqlStreamCase.Options(run.FetchId), timeout.Token);
        await using (session)
        {
            await ReplicationControl.RequestStopAsync(test.TargetAddress, run.FetchId, immediately: false, timeout.Token);
            var stopped = await running;
            Assert.Equal(ReplicationState.Stopped, stopped.State);
            Assert.NotNull(stopped.FailbackSlot);
        }

        await test.SourceAsync("CREATE TABLE applied (n INT AUTO_INCREMENT PRIMARY KEY, tbl VARCHAR(20) NOT NULL, id BIGINT NOT NULL, kind CHAR(1) NOT NULL)");
        foreach (var (table, key) in audited)
        {
            await test.SourceAsync($"""
                CREATE TRIGGER `{table}_inserted` AFTER INSERT ON `{table}` FOR EACH ROW INSERT INTO applied (tbl, id, kind) VALUES ('{table}', NEW.`{key}`, 'i');
                CREATE TRIGGER `{table}_updated` AFTER UPDATE ON `{table}` FOR EACH ROW INSERT INTO applied (tbl, id, kind) VALUES ('{table}', NEW.`{key}`, 'u');
                """);
        }

        return run;
    }

    public Task<FailbackSession> OpenAsync(FailbackOptions options, CancellationToken cancellationToken) =>
        FailbackSession.OpenAsync(Test.SourceAddress, Test.TargetAddress, options, log, cancellationToken);

    public FailbackOptions Options(bool stopWhenCaughtUp = false) =>
        new() { FetchId = FetchId, StopWhenCaughtUp = stopWhenCaughtUp, StatusInterval = TimeSpan.FromMilliseconds(200) };

    public async Task<ReplicationStatus> FailBackToEndAsync(CancellationToken cancellationToken)
    {
        await using var failback = await OpenAsync(Options(stopWhenCaughtUp: true), cancellationToken);
        return await failback.RunAsync(null, cancellationToken);
    }

    /// <summary>How many rows of <paramref name="table"/> failback inserted (i) or updated (u), as the triggers counted them.</summary>
    public async Task<long> AppliedAsync(string table, char kind) =>
        await Test.SourceScalarAsync<long>($"SELECT COUNT(*) FROM applied WHERE tbl = '{table}' AND kind = '{kind}'");

    /// <summary>Rows of <paramref name="table"/> whose insert the triggers recorded more than once.</summary>
    public async Task<long> InsertedTwiceAsync(string table) =>
        await Test.SourceScalarAsync<long>($"SELECT COUNT(*) FROM (SELECT id FROM applied WHERE tbl = '{table}' AND kind = 'i' GROUP BY id HAVING COUNT(*) > 1) d");

    /// <summary>Compare-MoltData's engine on every migrated table (not the original's own audit table): each Equal.</summary>
    public async Task AssertComparedEqualAsync(params string[] tables)
    {
        using var none = MoltLogSession.None();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var compared = await CompareSession.RunAsync(Test.SourceAddress, Test.TargetAddress, new CompareOptions { Filter = new TableFilter(excludedTables: ["applied"]) },
            new CompareCallbacks(), none, timeout.Token);
        Assert.Equal(tables.Order(), compared.Select(t => t.Table.Name).Order());
        Assert.All(compared, t => Assert.Equal((t.Table.Name, ComparisonStatus.Equal), (t.Table.Name, t.Status)));
    }

    /// <summary>Warnings logged with <paramref name="text"/> (the retries).</summary>
    public int Logged(string text)
    {
        lock (events)
        {
            return events.Count(e => e.Level == MoltLogLevel.Warning && e.Message.Contains(text, StringComparison.Ordinal));
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (events)
        {
            foreach (var e in events.Where(e => e.Level >= MoltLogLevel.Information))
            {
                output.WriteLine($"{e.Timestamp:HH:mm:ss.fff} {e.Level} {e.Message} {e.Exception?.Split('\n')[0]}");
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await ReplicationControl.RemoveAsync(Test.SourceAddress, Test.TargetAddress, FetchId, null, null, timeout.Token);
        }
        catch (MoltException ex)
        {
            // A test that failed part way may leave the stream held; its slots go with the server.
            output.WriteLine($"remove: {ex.Message}");
        }

        log.Dispose();
    }

    private void Record(MoltLogEvent e)
    {
        lock (events)
        {
            events.Add(e);
        }
    }
}
