using Molt.Engine.Endpoints;
using Molt.Engine.Replication;
using Molt.Engine.Sessions;

namespace Molt.Engine.Tests.Replication;

/// <summary>Stop-MoltReplication's request against a stream that is between claims, and against one that stopped.</summary>
[Collection(ApplyTargetCollection.Name)]
public sealed class StopRequestTests(ApplyTargetFixture fixture)
{
    [Fact]
    public async Task A_stop_is_recorded_for_a_stream_that_claims_again_within_seconds_after_its_target_connection_was_lost()
    {
        await using var target = await fixture.NewTargetAsync("stop_reclaim", "SELECT 1");
        var address = EndpointAddress.Parse(fixture.Server.ConnectionUri(target.Database));
        await using (await target.Control.ClaimAsync("lost", CancellationToken.None))
        {
            await target.Control.PublishAsync(new ReplicationStatus("lost", ReplicationState.Streaming, DateTimeOffset.UtcNow), CancellationToken.None);
        }

        // The claim ended with its connection, as a reset target connection ends it; the stream takes it again shortly.
        var reclaim = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            return await target.Control.ClaimAsync("lost", CancellationToken.None);
        });
        await ReplicationControl.RequestStopAsync(address, "lost", immediately: false, CancellationToken.None);
        await using (await reclaim)
        {
            Assert.NotNull(await target.Control.ReadStopRequestAsync("lost", CancellationToken.None));
        }
    }

    [Fact]
    public async Task A_stop_of_a_stream_that_stopped_is_refused_at_once()
    {
        await using var target = await fixture.NewTargetAsync("stop_stopped", "SELECT 1");
        var address = EndpointAddress.Parse(fixture.Server.ConnectionUri(target.Database));
        await using (await target.Control.ClaimAsync("done", CancellationToken.None))
        {
            await target.Control.PublishAsync(new ReplicationStatus("done", ReplicationState.Stopped, DateTimeOffset.UtcNow), CancellationToken.None);
        }

        var started = DateTimeOffset.UtcNow;
        var refused = await Assert.ThrowsAsync<MoltException>(() => ReplicationControl.RequestStopAsync(address, "done", immediately: false, CancellationToken.None));
        Assert.Equal("ReplicationNotRunning", refused.ErrorId);
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(3), "A stopped stream is refused without waiting for a claim.");
    }
}
