using Molt.Engine.Checks;
using Molt.Engine.Endpoints;
using Molt.Engine.Logging;
using Molt.Engine.Sessions;
using Xunit.Abstractions;

namespace Molt.Engine.Tests.Replication;

/// <summary>Test-MoltConnection -For Failback -FetchId against a real PostgreSQL target, before and after what the cutover left there is lost.</summary>
[Collection(FaultServersCollection.Name)]
public sealed class FailbackConnectionTests(FaultServersFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task The_target_checks_pass_after_the_cutover_even_without_a_free_slot_and_fail_naming_a_missing_publication_slot_or_replication()
    {
        await using var run = await FailbackRun.CutOverAsync(fixture, "fbcheck", output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var log = MoltLogSession.None();
        var tester = new ConnectionTester(log);
        async Task<Dictionary<string, PrerequisiteCheck>> CheckAsync(string fetchId) =>
            (await tester.TestAsync(run.TargetAddress, EndpointRole.Target, MigrationFlow.Failback, timeout.Token, fetchId)).Checks.ToDictionary(c => c.Check);

        var ready = await CheckAsync(run.FetchId);
        Assert.All(ready.Values, c => Assert.True(c.Passed, $"{c.Check}: {c.Detail}"));
        Assert.Contains($"replication '{run.FetchId}' stopped at the cutover; failback starts after target position ", ready["FailbackStart"].Detail, StringComparison.Ordinal);
        Assert.StartsWith($"slot 'moltfb_{run.FetchId}' (pgoutput) holds the target's changes from ", ready["FailbackSlot"].Detail, StringComparison.Ordinal);

        // Every other slot taken: failback needs none, since its slot exists.
        var free = await fixture.Target.ScalarAsync<int>("postgres",
            "SELECT current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots)::int", timeout.Token);
        await fixture.Target.ExecuteAsync("postgres", $"SELECT pg_create_physical_replication_slot('fill_' || g) FROM generate_series(1, {free}) g", timeout.Token);
        try
        {
            var full = (await CheckAsync(run.FetchId))["ReplicationSlots"];
            Assert.True(full.Passed, full.Detail);
            Assert.Equal($"0 free replication slot(s); none needed, failback reads slot 'moltfb_{run.FetchId}'", full.Detail);
        }
        finally
        {
            await fixture.Target.ExecuteAsync("postgres", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'fill\\_%'", timeout.Token);
        }

        // Another database of the same server, which Molt never wrote to: no _molt, so nothing recorded, and the slot is not its.
        var fresh = $"fresh_{run.FetchId}";
        await fixture.Target.CreateDatabaseAsync(fresh, timeout.Token);
        var never = (await tester.TestAsync(EndpointAddress.Parse(fixture.Target.ConnectionUri(fresh)), EndpointRole.Target, MigrationFlow.Failback, timeout.Token,
            run.FetchId)).Checks.ToDictionary(c => c.Check);
        Assert.Equal($"the target records no replication '{run.FetchId}'", never["FailbackStart"].Detail);
        Assert.Equal($"slot 'moltfb_{run.FetchId}' belongs to database '{run.TargetDb}', not '{fresh}'", never["FailbackSlot"].Detail);

        var unknown = await CheckAsync("nosuchfetch");
        Assert.False(unknown["FailbackStart"].Passed);
        Assert.Equal("the target records no replication 'nosuchfetch'", unknown["FailbackStart"].Detail);
        Assert.False(unknown["FailbackSlot"].Passed);

        await fixture.Target.ExecuteAsync(run.TargetDb, $"DROP PUBLICATION \"moltfb_{run.FetchId}\"", timeout.Token);
        var noPublication = (await CheckAsync(run.FetchId))["FailbackSlot"];
        Assert.False(noPublication.Passed);
        Assert.Contains("the publication", noPublication.Detail, StringComparison.Ordinal);
        Assert.Contains("CREATE PUBLICATION", noPublication.Remedy, StringComparison.Ordinal);

        await fixture.Target.ExecuteAsync(run.TargetDb, $"SELECT pg_drop_replication_slot('moltfb_{run.FetchId}')", timeout.Token);
        var noSlot = await CheckAsync(run.FetchId);
        Assert.True(noSlot["FailbackStart"].Passed);
        Assert.Equal($"the target has no logical replication slot 'moltfb_{run.FetchId}'", noSlot["FailbackSlot"].Detail);
        Assert.Contains("Stop-MoltReplication", noSlot["FailbackSlot"].Remedy, StringComparison.Ordinal);
    }
}
