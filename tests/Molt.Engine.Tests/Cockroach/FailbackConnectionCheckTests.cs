using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Endpoints;

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
}
