using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>The statement failback issues, checked as text against https://www.cockroachlabs.com/docs/stable/create-changefeed.</summary>
public sealed class ChangefeedStatementTests
{
    // The cursor of the MOLT failback guide: SELECT cluster_logical_timestamp() (_includes/molt/phased-delta-failback-all-sources.md).
    private static readonly CockroachHlc Cursor = CockroachHlc.Parse("1759246920563173000.0000000000");

    [Fact]
    public void TheStatementNamesEveryTableQualifiedAndQuotedWithTheOptionsFailbackNeeds() =>
        Assert.Equal(
            "CREATE CHANGEFEED FOR TABLE \"movr\".\"public\".\"rides\", \"movr\".\"public\".\"users\" WITH updated, resolved = '1s', " +
            "min_checkpoint_frequency = '1s', diff, envelope = 'wrapped', format = 'json', full_table_name, encode_json_value_null_as_object, " +
            "cursor = '1759246920563173000.0000000000'",
            ChangefeedStatement.For("movr", [new TableName("public", "users"), new TableName("public", "rides")], Cursor, new ChangefeedOptions()));

    [Fact]
    public void QuotesInNamesAreDoubled() =>
        Assert.StartsWith("CREATE CHANGEFEED FOR TABLE \"my\"\"db\".\"Sales\".\"Order \"\"x\"\"\" WITH",
            ChangefeedStatement.For("my\"db", [new TableName("Sales", "Order \"x\"")], Cursor, new ChangefeedOptions()), StringComparison.Ordinal);

    [Theory]
    [InlineData(250, "250ms")]
    [InlineData(1000, "1s")]
    [InlineData(30000, "30s")]
    [InlineData(1500, "1500ms")]
    public void TheResolvedIntervalIsAGoDurationAndTheCheckpointFrequencyFollowsIt(int milliseconds, string expected)
    {
        // resolved below 30s needs min_checkpoint_frequency at the same value (create-changefeed.md, resolved).
        var statement = ChangefeedStatement.For("movr", [new TableName("public", "t")], Cursor, new ChangefeedOptions { Resolved = TimeSpan.FromMilliseconds(milliseconds) });
        Assert.Contains($"resolved = '{expected}', min_checkpoint_frequency = '{expected}'", statement, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTopicOfATableIsItsFullNameAsFullTableNameWritesIt() =>
        // "full_table_name will create the topic name defaultdb.public.foo instead of foo" (create-changefeed.md)
        Assert.Equal("defaultdb.public.foo", ChangefeedStatement.Topic("defaultdb", new TableName("public", "foo")));

    [Fact]
    public void AChangefeedOfNoTableIsRefused() =>
        Assert.Throws<ArgumentException>(() => ChangefeedStatement.For("movr", [], Cursor, new ChangefeedOptions()));
}
