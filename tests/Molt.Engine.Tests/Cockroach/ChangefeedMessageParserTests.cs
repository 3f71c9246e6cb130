using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Replication;
using static Molt.Engine.Tests.Cockroach.ChangefeedPlans;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>Rows of a sinkless changefeed (table, key, value) read into typed messages; the JSON is the docs' own.</summary>
public sealed class ChangefeedMessageParserTests
{
    private const string Topic = "movr.public.employees";

    private static ChangefeedMessage Parse(string? table, string? key, string value) =>
        Parser(Employees).Parse(table, key is null ? null : Utf8(key), Utf8(value));

    [Fact]
    public void ARowWithUpdatedIsAnUpdateOfItsKeyAtItsCommitTimestamp()
    {
        // https://www.cockroachlabs.com/docs/stable/changefeed-messages (per-key ordering example)
        var row = Assert.IsType<ChangefeedRow>(Parse(Topic, "[1]",
            """{"after": {"id": 1, "name": "Terry", "office": "new york city"}, "key": [1], "updated": "1701102296662969433.0000000000"}"""));
        Assert.Equal(new CockroachHlc(1701102296662969433, 0), row.Updated);
        Assert.Equal(RowChangeKind.Update, row.Change.Kind);
        Assert.Equal(["1"], row.Change.Key);
        Assert.Equal(["1", "Terry", "new york city"], row.Change.New!.Values);
        Assert.All(row.Change.New.States, s => Assert.Equal(ColumnValueState.Present, s));
        Assert.Equal("public.employees", row.Change.Table.Name.ToString());
        Assert.Equal(["id"], row.Change.Table.KeyColumns);
        Assert.Equal("[1]", row.KeyText);
    }

    [Fact]
    public void UnderDiffABeforeOfNullIsAnInsert()
    {
        // "For an insert into the table, the before field contains null" (changefeed-message-envelopes.md)
        var row = Assert.IsType<ChangefeedRow>(Parse(Topic, "[2]",
            """{"after": {"id": 2, "name": "Alex", "office": "los angeles"}, "before": null, "updated": "1701102305519323705.0000000000"}"""));
        Assert.Equal(RowChangeKind.Insert, row.Change.Kind);
        Assert.Null(row.Change.Old);
    }

    [Fact]
    public void UnderDiffABeforeRowIsAnUpdateCarryingTheOldRow()
    {
        var row = Assert.IsType<ChangefeedRow>(Parse(Topic, "[2]",
            """{"after": {"id": 2, "name": "Alex", "office": "new york city"}, "before": {"id": 2, "name": "Alex", "office": "los angeles"}, "updated": "1701102325724272373.0000000000"}"""));
        Assert.Equal(RowChangeKind.Update, row.Change.Kind);
        Assert.Equal(["2", "Alex", "los angeles"], row.Change.Old!.Values);
        Assert.Equal(["2", "Alex", "new york city"], row.Change.New!.Values);
    }

    [Fact]
    public void AnAfterOfNullIsADeleteOfTheKey()
    {
        // "[5] {"after": null}" (changefeed-messages.md, Delete messages), here with updated and diff.
        var row = Assert.IsType<ChangefeedRow>(Parse(Topic, "[5]",
            """{"after": null, "before": {"id": 5, "name": "Robbie", "office": "london"}, "updated": "1701102330377135318.0000000000"}"""));
        Assert.Equal(RowChangeKind.Delete, row.Change.Kind);
        Assert.Equal(["5"], row.Change.Key);
        Assert.Null(row.Change.New);
        Assert.Equal(["5", "Robbie", "london"], row.Change.Old!.Values);
    }

    [Fact]
    public void APhantomDeleteWithNoBeforeIsADeleteOfTheKeyAlone()
    {
        var row = Assert.IsType<ChangefeedRow>(Parse(Topic, "[7]", """{"after": null, "before": null, "updated": "1701102330377135318.0000000000"}"""));
        Assert.Equal(RowChangeKind.Delete, row.Change.Kind);
        Assert.Null(row.Change.Old);
    }

    [Fact]
    public void AResolvedMessageIsItsTimestampWhateverTheTableColumnHolds()
    {
        // The resolved message's envelope is a resolved key with the timestamp as a string (changefeed-message-envelopes.md).
        Assert.Equal(new CockroachHlc(1701102600000000000, 3), Assert.IsType<ChangefeedResolved>(Parse(null, null, """{"resolved": "1701102600000000000.0000000003"}""")).Timestamp);
        Assert.IsType<ChangefeedResolved>(Parse(Topic, null, """{"resolved":"1701102600000000000.0000000000"}"""));
    }

    [Fact]
    public void ACompositeKeyIsReadInKeyOrderWithEachColumnsType()
    {
        var vehicles = Plan("vehicles", ["city", "id"], ("id", "UUID"), ("city", "STRING"), ("ext", "JSONB"));
        // create-changefeed.md: "key": ["seattle", "68ee1f95-3137-48e2-8ce3-34ac2d18c7c8"], "ext": {"color": "yellow"}
        var row = Assert.IsType<ChangefeedRow>(Parser(vehicles).Parse("movr.public.vehicles", Utf8("""["seattle", "68ee1f95-3137-48e2-8ce3-34ac2d18c7c8"]"""),
            Utf8("""{"after": {"city": "seattle", "ext": {"color": "yellow"}, "id": "68ee1f95-3137-48e2-8ce3-34ac2d18c7c8"}, "before": null, "updated": "1701102296662969433.0000000000"}""")));
        Assert.Equal(["city", "id"], row.Change.Table.KeyColumns);
        Assert.Equal(["seattle", "68ee1f95-3137-48e2-8ce3-34ac2d18c7c8"], row.Change.Key);
        Assert.Equal(["68ee1f95-3137-48e2-8ce3-34ac2d18c7c8", "seattle", "{\"color\": \"yellow\"}"], row.Change.New!.Values);
    }

    [Fact]
    public void AColumnTheChangefeedOmitsIsLeftUnchanged()
    {
        // Virtual computed columns are omitted by default (create-changefeed.md, virtual_columns).
        var row = Assert.IsType<ChangefeedRow>(Parse(Topic, "[1]", """{"after": {"id": 1, "name": "Terry"}, "before": null, "updated": "1701102296662969433.0000000000"}"""));
        Assert.Equal([ColumnValueState.Present, ColumnValueState.Present, ColumnValueState.Unchanged], row.Change.New!.States);
    }

    [Fact]
    public void AColumnAddedOnTheTargetStopsWithAnErrorNamingIt()
    {
        var error = Assert.Throws<MoltException>(() => Parse(Topic, "[1]",
            """{"after": {"id": 1, "name": "Terry", "office": "x", "badge": 7}, "before": null, "updated": "1701102296662969433.0000000000"}"""));
        Assert.Equal("ChangefeedUnknownColumn", error.ErrorId);
        Assert.Contains("badge", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARowOfATableNotWatchedIsRefused()
    {
        // The docs' sinkless example without full_table_name: foo,[0],"{""after"": {""a"": 0}}" (changefeed-for.md)
        var error = Assert.Throws<MoltException>(() => Parse("foo", "[0]", """{"after": {"a": 0}}"""));
        Assert.Equal("ChangefeedUnknownTable", error.ErrorId);
    }

    [Fact]
    public void ARowWithoutUpdatedIsRefusedBecauseItCannotBeOrdered() =>
        Assert.Throws<FormatException>(() => Parse(Topic, "[0]", """{"after": {"id": 0, "name": "a", "office": "b"}}"""));

    [Fact]
    public void AKeyOfTheWrongLengthIsRefused() =>
        Assert.Throws<FormatException>(() => Parse(Topic, "[1, 2]", """{"after": null, "updated": "1701102296662969433.0000000000"}"""));
}
