using Molt.Engine.Replication;
using static Molt.Engine.Tests.Replication.Apply;

namespace Molt.Engine.Tests.Replication;

/// <summary>The read-ahead between a source stream and the loop: its bounds, its order, its idleness, its errors.</summary>
public sealed class ReadAheadStreamTests
{
    private static readonly Molt.Engine.Schema.TablePlan Events = Plan("public", "events", [], ("n", "integer"), ("note", "text"));

    private static ChangeTable EventsTable { get; } = Table(Events, full: true);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static Change Event(int n) => Insert(EventsTable, n.ToString(System.Globalization.CultureInfo.InvariantCulture), new string('x', 1000));

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    [Fact]
    public async Task Changes_read_ahead_stay_within_the_byte_bound_reach_the_consumer_in_order_and_the_stream_is_idle_and_not_behind_only_once_all_were_taken()
    {
        var source = new FakeChangeSource();
        var commits = Enumerable.Range(0, 5).Select(t => source.Commit(Enumerable.Range(t * 10, 10).Select(Event).ToArray())).ToList();
        var inner = await source.StartAsync(new PostgresLsn(0x1000), [Events], CancellationToken.None);
        await using var stream = new ReadAheadStream(inner, maxChanges: 1000, maxBytes: 5 * BatchLog.Size(Event(0)));
        await using var changes = stream.ReadAsync(CancellationToken.None).GetAsyncEnumerator();

        Assert.True(await changes.MoveNextAsync());
        Assert.IsType<BeginChange>(changes.Current);
        await WaitUntilAsync(() => stream.Queued.Changes >= 4);
        // A producer with room would have read all 56 messages by now; it waits for the consumer at the bound instead.
        await Task.Delay(200);
        Assert.InRange(stream.Queued.Bytes, 1, 5 * BatchLog.Size(Event(0)));
        Assert.False(stream.IsIdle);
        Assert.True(stream.IsBehind);

        var inserted = new List<string>();
        var committed = new List<SourcePosition>();
        while (committed.Count < commits.Count)
        {
            Assert.True(await changes.MoveNextAsync());
            switch (changes.Current)
            {
                case RowChange row:
                    inserted.Add((string)row.New!.Values[0]!);
                    break;
                case CommitChange commit:
                    committed.Add(commit.Position);
                    break;
            }
        }

        Assert.Equal(Enumerable.Range(0, 50).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), inserted);
        Assert.Equal(commits, committed);
        var next = changes.MoveNextAsync();
        await WaitUntilAsync(() => stream.IsIdle);
        Assert.Equal((0, 0L), stream.Queued);
        Assert.False(stream.IsBehind);
        Assert.False(next.IsCompleted);
        source.Commit(Event(50));
        Assert.True(await next);
        Assert.IsType<BeginChange>(changes.Current);
        Assert.False(stream.IsIdle);
    }

    [Fact]
    public async Task A_source_error_reaches_the_consumer_after_every_change_read_before_it()
    {
        var source = new FakeChangeSource { FailAfterChanges = 13 };
        source.Commit(Enumerable.Range(0, 10).Select(Event).ToArray());
        source.Commit(Enumerable.Range(10, 10).Select(Event).ToArray());
        var inner = await source.StartAsync(new PostgresLsn(0x1000), [Events], CancellationToken.None);
        await using var stream = new ReadAheadStream(inner);

        var received = new List<Change>();
        var failure = await Assert.ThrowsAsync<TransientSourceException>(async () =>
        {
            await foreach (var change in stream.ReadAsync(CancellationToken.None))
            {
                received.Add(change);
            }
        });

        Assert.Contains("lost its connection", failure.Message, StringComparison.Ordinal);
        Assert.Equal(13, received.OfType<RowChange>().Count());
        Assert.Single(received.OfType<CommitChange>());
        Assert.False(stream.IsIdle);
    }
}
