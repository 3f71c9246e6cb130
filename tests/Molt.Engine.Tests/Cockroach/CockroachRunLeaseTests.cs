using Molt.Engine.State;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// The run lease's claim as CockroachDB receives it. A live claim with the dialect forced onto PostgreSQL is
/// PostgresBulkLoadTests.AResumeOfARunStillGoingOnElsewhereIsRefusedAndTheRunFinishes(cockroach: true); PostgreSQL does not
/// make a conflicting INSERT wait the way CockroachDB does, so the order is pinned here.
/// </summary>
public sealed class CockroachRunLeaseTests
{
    [Fact]
    public void TheLockTimeoutIsSetInTheClaimsTransactionBeforeAnythingTouchesTheLeaseRow()
    {
        var statements = RunLease.RowClaimStatements(TimeSpan.FromSeconds(5));
        Assert.Equal("BEGIN", statements[0]);
        var timeout = statements.ToList().FindIndex(s => s == "SET LOCAL lock_timeout = '5000ms'");
        var claim = statements.ToList().FindIndex(s => s.Contains("\"_molt\".\"fetch_leases\"", StringComparison.Ordinal));
        Assert.InRange(timeout, 1, claim - 1);
        Assert.Single(statements, s => s.Contains("fetch_leases", StringComparison.Ordinal));
    }

    [Fact]
    public void TheClaimIsAReplicatedWriteNotAnUnreplicatedForUpdateLock()
    {
        var claim = RunLease.RowClaimStatements(TimeSpan.Zero)[^1];
        Assert.Equal("""INSERT INTO "_molt"."fetch_leases" (fetch_id) VALUES ($1) ON CONFLICT (fetch_id) DO UPDATE SET fetch_id = excluded.fetch_id""", claim);
        Assert.Contains("SET LOCAL lock_timeout = '1ms'", RunLease.RowClaimStatements(TimeSpan.Zero));
    }

    [Theory]
    [InlineData("55P03", true)]
    [InlineData("40001", true)]
    [InlineData("42P01", false)]
    public void ALockTimeoutOrAnAbortedWaitMeansTheClaimIsHeldElsewhere(string sqlState, bool held) =>
        Assert.Equal(held, RunLease.IsHeldElsewhere(sqlState));
}
