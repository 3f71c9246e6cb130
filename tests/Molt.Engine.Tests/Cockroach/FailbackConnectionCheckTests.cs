using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Endpoints;
using Molt.Engine.Replication;
using Molt.Engine.Sessions;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// What Test-MoltConnection -For Failback asks a CockroachDB target, as text (no cluster runs here): rangefeeds as
/// https://www.cockroachlabs.com/docs/molt/migrate-failback and https://www.cockroachlabs.com/docs/stable/show-cluster-setting
/// spell the setting, and the GC TTL against the expected downtime as https://www.cockroachlabs.com/docs/stable/configure-replication-zones
/// spells the remedy.
/// </summary>
public sealed class FailbackConnectionCheckTests
{
    private static readonly EndpointAddress Address = EndpointAddress.Parse("cockroachdb://max@crdb:26257/movr");

    [Fact]
    public void Rangefeeds_are_read_with_SHOW_CLUSTER_SETTING_of_kv_rangefeed_enabled() =>
        Assert.Equal("SHOW CLUSTER SETTING kv.rangefeed.enabled", CockroachPrerequisites.RangefeedSettingSql);

    [Fact]
    public void A_gc_ttl_shorter_than_the_expected_downtime_fails_with_the_ALTER_DATABASE_that_lengthens_it()
    {
        // 25 minutes: a failback stopped for the hour of expected downtime could not resume from its cursor.
        var check = ChangefeedPrerequisites.EvaluateGcTtl(EndpointRole.Target, Address, "movr", 1500, ChangefeedPrerequisites.ExpectedDowntime);

        Assert.False(check.Passed);
        Assert.Equal("FailbackGcWindow", check.Check);
        Assert.Contains("gc.ttlseconds = 1500 on database 'movr'", check.Detail, StringComparison.Ordinal);
        Assert.StartsWith("ALTER DATABASE \"movr\" CONFIGURE ZONE USING gc.ttlseconds = ", check.Remedy, StringComparison.Ordinal);
        var seconds = int.Parse(check.Remedy!.Split("gc.ttlseconds = ")[1].Split(';')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(ChangefeedPrerequisites.EvaluateGcTtl(EndpointRole.Target, Address, "movr", seconds, ChangefeedPrerequisites.ExpectedDowntime).Passed,
            "The remedy's TTL must pass the check it is the remedy of.");
    }

    [Fact]
    public void The_cutovers_HLC_is_read_with_the_streams_checkpoint_row_so_that_it_lies_above_Molts_last_batch() =>
        Assert.Equal("SELECT cluster_logical_timestamp()::STRING FROM (SELECT count(*) FROM \"_molt\".\"replication_checkpoints\" WHERE fetch_id = $1) AS applied",
            CockroachFailbackAnchor.AnchorSql);

    [Fact]
    public async Task A_CockroachDB_target_is_failed_back_from_with_a_changefeed_and_no_slot()
    {
        var source = await DatabaseRegistry.OpenFailbackSourceAsync(Address, "shop", null, CancellationToken.None);
        await using (source.Source)
        {
            Assert.IsType<CockroachChangefeedSource>(source.Source);
            Assert.Null(source.Slot);
            Assert.Null(source.Publication);
        }
    }

    [Fact]
    public void Where_failback_starts_passes_within_the_gc_window_and_fails_past_it_with_the_reload_remedy()
    {
        var cursor = CockroachHlc.Parse("1701102290000000000.0000000000");
        var hourLater = CockroachHlc.Parse("1701105890000000000.0000000000");

        var within = ChangefeedPrerequisites.EvaluateCursor(EndpointRole.Target, Address, "movr", cursor, hourLater, 14400);
        var past = ChangefeedPrerequisites.EvaluateCursor(EndpointRole.Target, Address, "movr", cursor, hourLater, 3600);

        Assert.True(within.Passed);
        Assert.Equal("FailbackCursor", within.Check);
        Assert.Contains("60 min ago; gc.ttlseconds = 14400 on database 'movr' keeps its row versions for another 179 min", within.Detail, StringComparison.Ordinal);
        Assert.False(past.Passed);
        Assert.Contains("keeps row versions for 60 min only", past.Detail, StringComparison.Ordinal);
        Assert.Contains("load the original database again", past.Remedy, StringComparison.Ordinal);
        // The same judgement as the changefeed source's before it starts.
        Assert.Throws<MoltException>(() => ChangefeedGcWindow.Require(cursor, hourLater, [(new global::Molt.Engine.Schema.TableName("public", "users"), 3600)]));
    }
}
