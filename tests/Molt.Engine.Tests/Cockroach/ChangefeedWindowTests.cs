using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using static Molt.Engine.Tests.Cockroach.ChangefeedPlans;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// Windowing of changefeed output written as https://www.cockroachlabs.com/docs/stable/changefeed-messages shows it (the
/// employees sequence, its at-least-once example with a pause and re-emitted messages, deletes, key changes), as sinkless
/// rows of (table, key, value).
/// </summary>
public sealed class ChangefeedWindowTests : IDisposable
{
    private const string Employees = "movr.public.employees";
    private const string Offices = "movr.public.offices";
    private static readonly CockroachHlc Checkpoint = CockroachHlc.Parse("1701102290000000000.0000000000");
    private static readonly TablePlan OfficesPlan = Plan("offices", ["city"], ("city", "STRING"), ("head", "INT8"));
    private readonly ChangefeedMessageParser parser = Parser(ChangefeedPlans.Employees, OfficesPlan);
    private readonly string spillDirectory = Directory.CreateTempSubdirectory("molt-changefeed-test").FullName;

    // The messages of the docs' example, in the order the sink received them (after, key, updated).
    private static readonly (string Table, string Key, string Value)[] Terry =
    [
        (Employees, "[1]", """{"after": {"id": 1, "name": "Terry", "office": "new york city"}, "before": null, "updated": "1701102296662969433.0000000000"}"""),
        (Employees, "[1]", """{"after": {"id": 1, "name": "Terri", "office": "new york city"}, "before": {"id": 1, "name": "Terry", "office": "new york city"}, "updated": "1701102311425045162.0000000000"}"""),
        (Employees, "[2]", """{"after": {"id": 2, "name": "Alex", "office": "los angeles"}, "before": null, "updated": "1701102305519323705.0000000000"}"""),
    ];

    private static readonly (string Table, string Key, string Value)[] AfterCheckpoint =
    [
        (Employees, "[3]", """{"after": {"id": 3, "name": "Ash", "office": "london"}, "before": null, "updated": "1701102316388801052.0000000000"}"""),
        (Employees, "[1]", """{"after": {"id": 1, "name": "Terrence", "office": "new york city"}, "before": {"id": 1, "name": "Terri", "office": "new york city"}, "updated": "1701102320607990564.0000000000"}"""),
    ];

    private static readonly (string Table, string Key, string Value)[] Continued =
    [
        (Employees, "[2]", """{"after": {"id": 2, "name": "Alex", "office": "new york city"}, "before": {"id": 2, "name": "Alex", "office": "los angeles"}, "updated": "1701102325724272373.0000000000"}"""),
        (Employees, "[5]", """{"after": {"id": 5, "name": "Robbie", "office": "london"}, "before": null, "updated": "1701102330377135318.0000000000"}"""),
        (Employees, "[4]", """{"after": {"id": 4, "name": "Danny", "office": "los angeles"}, "before": null, "updated": "1701102561022789676.0000000000"}"""),
    ];

    private const string FirstResolved = """{"resolved": "1701102312000000000.0000000000"}""";
    private const string SecondResolved = """{"resolved": "1701102600000000000.0000000000"}""";

    public void Dispose() => Directory.Delete(spillDirectory, recursive: true);

    /// <summary>Feeds rows and resolved messages through a window as the stream does, returning the transactions it sent.</summary>
    private List<List<Change>> Feed(ChangefeedWindow window, params (string? Table, string? Key, string Value)[] rows)
    {
        var transactions = new List<List<Change>>();
        foreach (var (table, key, value) in rows)
        {
            switch (parser.Parse(table, key is null ? null : Utf8(key), Utf8(value)))
            {
                case ChangefeedRow row:
                    window.Add(row);
                    break;
                case ChangefeedResolved resolved:
                    var changes = window.Close(resolved.Timestamp).ToList();
                    if (changes.Count > 0)
                    {
                        transactions.Add(changes);
                    }

                    break;
            }
        }

        return transactions;
    }

    private static (string? Table, string? Key, string Value) Resolved(string value) => (null, null, value);

    private static List<string> Describe(IEnumerable<Change> transaction) => transaction.Select(c => c switch
    {
        BeginChange => "begin",
        CommitChange commit => $"commit {commit.Position}",
        RowChange row => $"{row.Kind} {row.Table.Name.Name} {string.Join(",", row.Key)}{(row.New is null ? "" : " " + row.New.Values[1])}",
        _ => c.GetType().Name,
    }).ToList();

    [Fact]
    public void AResolvedTimestampClosesTheRowsAtOrBelowItAsOneTransactionInUpdatedOrder()
    {
        using var window = new ChangefeedWindow(Checkpoint, new ChangefeedWindowOptions());
        var transactions = Feed(window, [.. Terry, Resolved(FirstResolved)]);
        var transaction = Assert.Single(transactions);
        // Key [2] at ...305 lies between the two versions of key [1], whatever the order they arrived in.
        Assert.Equal(["begin", "Insert employees 1 Terry", "Insert employees 2 Alex", "Update employees 1 Terri", "commit 1701102312000000000.0000000000"],
            Describe(transaction));
        var commit = Assert.IsType<CommitChange>(transaction[^1]);
        Assert.Equal(CockroachHlc.Parse("1701102312000000000.0000000000"), commit.Position);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1701102312000), commit.CommittedAt);
        Assert.Equal(0, window.PendingCount);
    }

    [Fact]
    public void MessagesReEmittedAfterAPauseAreSentOnce()
    {
        // The docs' at-least-once example: after a pause the changefeed re-emits Ash and Terrence, then continues.
        using var window = new ChangefeedWindow(Checkpoint, new ChangefeedWindowOptions());
        var transactions = Feed(window, [.. Terry, Resolved(FirstResolved), .. AfterCheckpoint, .. AfterCheckpoint, .. Continued, Resolved(SecondResolved)]);
        Assert.Equal(2, transactions.Count);
        Assert.Equal(["begin", "Insert employees 3 Ash", "Update employees 1 Terrence", "Update employees 2 Alex", "Insert employees 5 Robbie",
            "Insert employees 4 Danny", "commit 1701102600000000000.0000000000"], Describe(transactions[1]));
        Assert.Equal(2, window.Dropped);
    }

    [Fact]
    public void AfterARestartAtTheCheckpointRowsAlreadyAppliedAreDropped()
    {
        // Restarted with cursor = the first window's resolved timestamp; the feed re-delivers Terri (applied) with the rest.
        using var window = new ChangefeedWindow(CockroachHlc.Parse("1701102312000000000.0000000000"), new ChangefeedWindowOptions());
        var transactions = Feed(window, [Terry[1], Terry[2], .. AfterCheckpoint, .. Continued, Resolved(FirstResolved), Resolved(SecondResolved)]);
        var transaction = Assert.Single(transactions);
        Assert.Equal(7, transaction.Count);
        Assert.DoesNotContain("Update employees 1 Terri", Describe(transaction));
        Assert.Equal(2, window.Dropped);
    }

    [Fact]
    public void ARowAboveTheResolvedTimestampWaitsForTheNextWindow()
    {
        using var window = new ChangefeedWindow(Checkpoint, new ChangefeedWindowOptions());
        var transactions = Feed(window, [.. Terry, Continued[2], Resolved(FirstResolved)]);
        Assert.Equal(5, Assert.Single(transactions).Count);
        Assert.Equal(1, window.PendingCount);
        var next = Feed(window, Resolved(SecondResolved));
        Assert.Equal(["begin", "Insert employees 4 Danny", "commit 1701102600000000000.0000000000"], Describe(Assert.Single(next)));
    }

    [Fact]
    public void TheSameResolvedTimestampForEveryTopicClosesOneWindow()
    {
        // Resolved messages go to every endpoint of the sink (changefeed-messages.md, Resolved messages).
        using var window = new ChangefeedWindow(Checkpoint, new ChangefeedWindowOptions());
        var transactions = Feed(window, [.. Terry, (Employees, null, FirstResolved), (Offices, null, FirstResolved), Resolved(FirstResolved)]);
        Assert.Single(transactions);
    }

    [Fact]
    public void RowsOfSeveralTablesShareOneWindowInUpdatedOrder()
    {
        using var window = new ChangefeedWindow(Checkpoint, new ChangefeedWindowOptions());
        var transactions = Feed(window,
            (Offices, "[\"london\"]", """{"after": {"city": "london", "head": 3}, "before": null, "updated": "1701102316388801052.0000000000"}"""),
            AfterCheckpoint[0],
            (Offices, "[\"paris\"]", """{"after": {"city": "paris", "head": 1}, "before": null, "updated": "1701102296662969433.0000000000"}"""),
            Terry[0],
            Resolved(FirstResolved),
            Resolved("""{"resolved": "1701102317000000000.0000000000"}"""));
        Assert.Equal(2, transactions.Count);
        Assert.Equal(["begin", "Insert offices paris 1", "Insert employees 1 Terry", "commit 1701102312000000000.0000000000"], Describe(transactions[0]));
        // Two tables written by one CockroachDB transaction (one timestamp) land in one window, in arrival order.
        Assert.Equal(["begin", "Insert offices london 3", "Insert employees 3 Ash", "commit 1701102317000000000.0000000000"], Describe(transactions[1]));
    }

    [Fact]
    public void ADeleteIsSentAsADeleteOfItsKey()
    {
        using var window = new ChangefeedWindow(Checkpoint, new ChangefeedWindowOptions());
        var transaction = Assert.Single(Feed(window,
            (Employees, "[5]", """{"after": null, "before": {"id": 5, "name": "Robbie", "office": "london"}, "updated": "1701102300000000000.0000000000"}"""),
            Resolved(FirstResolved)));
        var delete = Assert.IsType<RowChange>(transaction[1]);
        Assert.Equal(RowChangeKind.Delete, delete.Kind);
        Assert.Equal(["5"], delete.Key);
    }

    [Fact]
    public void AKeyChangeArrivesAsADeleteAndAnInsertAndTheDeleteGoesFirst()
    {
        // "When changes happen to a column that is part of a composite key, the changefeed will produce a delete message and
        // then an insert message" (changefeed-messages.md); both carry the transaction's timestamp, and may arrive in any order.
        using var window = new ChangefeedWindow(Checkpoint, new ChangefeedWindowOptions());
        var transaction = Assert.Single(Feed(window,
            (Employees, "[7]", """{"after": {"id": 7, "name": "Sam", "office": "london"}, "before": null, "updated": "1701102300000000000.0000000000"}"""),
            (Employees, "[6]", """{"after": null, "before": {"id": 6, "name": "Sam", "office": "london"}, "updated": "1701102300000000000.0000000000"}"""),
            Resolved(FirstResolved)));
        Assert.Equal(["begin", "Delete employees 6", "Insert employees 7 Sam", "commit 1701102312000000000.0000000000"], Describe(transaction));
    }

    [Fact]
    public void AnIdleFeedSendsAnEmptyTransactionOncePerIntervalSoTheCheckpointMoves()
    {
        using var window = new ChangefeedWindow(Checkpoint, new ChangefeedWindowOptions { IdleCommitInterval = TimeSpan.FromMinutes(1) });
        Assert.Empty(Feed(window, Resolved("""{"resolved": "1701102300000000000.0000000000"}""")));
        var idle = Assert.Single(Feed(window, Resolved("""{"resolved": "1701102350000000000.0000000000"}""")));
        Assert.Equal(["begin", "commit 1701102350000000000.0000000000"], Describe(idle));
        Assert.Empty(Feed(window, Resolved("""{"resolved": "1701102400000000000.0000000000"}""")));
    }

    [Fact]
    public void AnOlderResolvedTimestampClosesNothing()
    {
        using var window = new ChangefeedWindow(Checkpoint, new ChangefeedWindowOptions());
        Assert.Single(Feed(window, [.. Terry, Resolved(SecondResolved)]));
        Assert.Empty(Feed(window, Resolved(FirstResolved)));
        Assert.Equal(CockroachHlc.Parse("1701102600000000000.0000000000"), window.Closed);
    }

    [Fact]
    public void RowsBeyondTheMemoryBoundSpillToAFileAndComeBackWhole()
    {
        using var window = new ChangefeedWindow(Checkpoint, new ChangefeedWindowOptions { MemoryBytes = 300, SpillDirectory = spillDirectory });
        Feed(window, [.. Terry, .. AfterCheckpoint, .. Continued]);
        var spill = window.SpillPath;
        Assert.NotNull(spill);
        Assert.True(File.Exists(spill));
        var first = Feed(window, Resolved(FirstResolved));
        Assert.Equal(["begin", "Insert employees 1 Terry", "Insert employees 2 Alex", "Update employees 1 Terri", "commit 1701102312000000000.0000000000"],
            Describe(Assert.Single(first)));
        // Once read, the closed window's file is gone; the open rows moved to a store of their own.
        Assert.False(File.Exists(spill));
        var second = Assert.Single(Feed(window, Resolved(SecondResolved)));
        var terrence = second.OfType<RowChange>().Single(r => r.Key[0] as string == "1");
        Assert.Equal(["1", "Terrence", "new york city"], terrence.New!.Values);
        Assert.Equal(["1", "Terri", "new york city"], terrence.Old!.Values);
        Assert.Empty(Directory.GetFiles(spillDirectory));
    }
}
