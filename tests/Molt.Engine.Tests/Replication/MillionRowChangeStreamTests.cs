using System.Globalization;
using Molt.Engine.Replication;
using Xunit.Abstractions;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// Reading one source transaction of a million changes. It runs in the collection no other test runs beside, because
/// the managed heap it samples is the whole process's: a parallel test's allocations made it fail in CI.
/// </summary>
[Collection(LargeTransactionCollection.Name)]
public sealed class MillionRowChangeStreamTests(LargeTransactionFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task AMillionRowUpdateIsReadChangeByChangeWithFlatMemory()
    {
        const int rows = 1_000_000;
        const string database = "million";
        await fixture.Server.CreateDatabaseAsync(database);
        await fixture.Server.ExecuteAsync(database, $"CREATE TABLE big (id int PRIMARY KEY, v int, pad text); INSERT INTO big SELECT g, 0, 'row ' || g FROM generate_series(1, {rows}) g");
        await using var setup = await ReplicationSetup.CreateAsync(fixture.Server, database, "big");
        await setup.ExecuteAsync("UPDATE big SET v = 1");
        await using var stream = await setup.StartAsync();
        using var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(10));

        var updates = 0;
        var samples = new List<long>();
        await foreach (var change in stream.ReadAsync(hangGuard.Token))
        {
            if (change is RowChange { Kind: RowChangeKind.Update } update)
            {
                Assert.Equal("1", update.New!.Values[1]);
                if (++updates % 100_000 == 0)
                {
                    samples.Add(GC.GetTotalMemory(forceFullCollection: true));
                }
            }
            else if (change is CommitChange)
            {
                break;
            }
        }

        output.WriteLine($"managed heap after each 100,000 changes (MB): {string.Join(", ", samples.Select(s => (s / 1048576.0).ToString("F1", CultureInfo.InvariantCulture)))}");
        Assert.Equal(rows, updates);
        // Holding the transaction would take hundreds of megabytes (a million row images); reading it change by change stays
        // within a few megabytes of where it began.
        Assert.InRange(samples.Max() - samples[0], long.MinValue, 16L * 1024 * 1024);
    }
}
