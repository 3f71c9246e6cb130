using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Replication;
using Molt.Engine.Tests.Load;
using Npgsql;
using static Molt.Engine.Tests.Cockroach.ChangefeedPlans;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// The changefeed stream's reading over Npgsql, run for real on PostgreSQL: CREATE CHANGEFEED cannot run there, so the
/// stream is given a query returning the sinkless changefeed's columns (table STRING, key and value BYTES) with rows
/// as the docs show them, or failing as CockroachDB fails. What CockroachDB itself sends is not tested here.
/// </summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class ChangefeedStreamTests(PostgresSourceFixture fixture)
{
    private static readonly CockroachHlc Checkpoint = CockroachHlc.Parse("1701102290000000000.0000000000");

    private static string Row(string? table, string? key, string value) =>
        $"({(table is null ? "NULL::text" : $"'{table}'")}, {(key is null ? "NULL::bytea" : $"convert_to('{key}', 'UTF8')")}, convert_to('{value}', 'UTF8'))";

    private async Task<CockroachChangefeedStream> StreamAsync(string statement)
    {
        var connection = new NpgsqlConnection(fixture.Server.ConnectionString(await fixture.NewDatabaseAsync("feed")));
        await connection.OpenAsync();
        return new CockroachChangefeedStream(connection, statement, Parser(Employees), new ChangefeedWindow(Checkpoint, new ChangefeedWindowOptions()));
    }

    [Fact]
    public async Task RowsReadFromTheServerAreSentAsOneTransactionPerResolvedTimestampAndTheEndOfTheFeedIsTransient()
    {
        var rows = new[]
        {
            Row("movr.public.employees", "[1]", """{"after": {"id": 1, "name": "Terri", "office": "new york city"}, "before": {"id": 1, "name": "Terry", "office": "new york city"}, "updated": "1701102311425045162.0000000000"}"""),
            Row("movr.public.employees", "[2]", """{"after": {"id": 2, "name": "Alex", "office": "los angeles"}, "before": null, "updated": "1701102305519323705.0000000000"}"""),
            Row("movr.public.employees", "[2]", """{"after": {"id": 2, "name": "Alex", "office": "los angeles"}, "before": null, "updated": "1701102305519323705.0000000000"}"""),
            Row(null, null, """{"resolved": "1701102312000000000.0000000000"}"""),
        };
        await using var stream = await StreamAsync($"SELECT * FROM (VALUES {string.Join(", ", rows)}) AS feed(\"table\", key, value)");
        Assert.True(stream.IsIdle);
        Assert.Equal(Checkpoint, stream.KnownEnd);

        var changes = new List<Change>();
        var ended = await Assert.ThrowsAsync<TransientSourceException>(async () =>
        {
            await foreach (var change in stream.ReadAsync(CancellationToken.None))
            {
                changes.Add(change);
            }
        });

        Assert.Contains("changefeed ended", ended.Message, StringComparison.Ordinal);
        Assert.IsType<BeginChange>(changes[0]);
        Assert.Equal([RowChangeKind.Insert, RowChangeKind.Update], changes.OfType<RowChange>().Select(r => r.Kind));
        Assert.Equal(["2", "Alex", "los angeles"], changes.OfType<RowChange>().First().New!.Values);
        Assert.Equal(CockroachHlc.Parse("1701102312000000000.0000000000"), Assert.IsType<CommitChange>(changes[^1]).Position);
        Assert.Equal(4, changes.Count);
        Assert.Equal(CockroachHlc.Parse("1701102312000000000.0000000000"), stream.KnownEnd);
    }

    [Fact]
    public async Task TheServerRefusingACursorPastTheGcThresholdIsAnErrorNamingGcTtlSeconds()
    {
        await using var stream = await StreamAsync("DO $$ BEGIN RAISE EXCEPTION 'batch timestamp 1701102290.000000000,0 must be after replica GC threshold 1701102300.000000000,0'; END $$");
        var error = await Assert.ThrowsAsync<MoltException>(async () =>
        {
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
            }
        });
        Assert.Equal("ChangefeedCursorPastGcWindow", error.ErrorId);
        Assert.Contains("gc.ttlseconds", error.Remedy, StringComparison.Ordinal);
        Assert.False(stream.IsIdle);
    }

    [Fact]
    public async Task AnyOtherErrorOfTheServerStopsFailbackWithItsMessage()
    {
        await using var stream = await StreamAsync("SELECT * FROM \"no_such_table\"");
        var error = await Assert.ThrowsAsync<MoltException>(async () =>
        {
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
            }
        });
        Assert.Equal("ChangefeedFailed", error.ErrorId);
        Assert.Contains("no_such_table", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreadableMessageStopsFailbackBeforeItsWindow()
    {
        await using var stream = await StreamAsync($"SELECT * FROM (VALUES {Row("movr.public.employees", "[1]", "{not json")}) AS feed(\"table\", key, value)");
        var error = await Assert.ThrowsAsync<MoltException>(async () =>
        {
            await foreach (var _ in stream.ReadAsync(CancellationToken.None))
            {
            }
        });
        Assert.Equal("ChangefeedMessageUnreadable", error.ErrorId);
    }

    [Fact]
    public async Task Cancelling_a_feed_that_waits_for_rows_after_a_window_ends_it_within_seconds()
    {
        // The window's rows, then enough resolved copies that PostgreSQL flushes its output buffer past them, then a wait.
        var rows = Row("movr.public.employees", "[2]", """{"after": {"id": 2, "name": "Alex", "office": "los angeles"}, "before": null, "updated": "1701102305519323705.0000000000"}""");
        const string resolved = """{"resolved": "1701102312000000000.0000000000"}""";
        await using var stream = await StreamAsync(
            $"SELECT * FROM (VALUES {rows}) AS feed(\"table\", key, value) UNION ALL SELECT NULL, NULL, convert_to('{resolved}', 'UTF8') FROM generate_series(1, 2000) " +
            "UNION ALL SELECT NULL, NULL, NULL FROM pg_sleep(600)");
        using var cancel = new CancellationTokenSource();
        var changes = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var change in stream.ReadAsync(cancel.Token))
            {
                if (change is CommitChange)
                {
                    cancel.CancelAfter(TimeSpan.FromSeconds(1));
                }

                changes++;
            }
        });

        Assert.Equal(3, changes);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"The feed ended {watch.Elapsed.TotalSeconds:F0} s after it was read, not soon after its cancellation.");
    }
}
