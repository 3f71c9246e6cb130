using Molt.Engine.Replication;

namespace Molt.Engine.Tests.Replication;

/// <summary>What the status of a stream whose process died (SIGKILL) says: not running, and the next step that works.</summary>
[Collection(ApplyTargetCollection.Name)]
public sealed class AbandonedStreamStatusTests(ApplyTargetFixture fixture)
{
    [Fact]
    public async Task A_stream_whose_process_ended_during_its_load_is_failed_unheld_and_points_at_the_loads_resume_not_at_a_checkpoint()
    {
        await using var target = await fixture.NewTargetAsync("abandoned_load", "SELECT 1");
        await using (await target.Control.ClaimAsync("killed", CancellationToken.None))
        {
            await target.Control.PublishAsync(new ReplicationStatus("killed", ReplicationState.Loading, DateTimeOffset.UtcNow) { Slot = "molt_killed" }, CancellationToken.None);
        }

        // The claim ended with its session, as it does when the process is killed; the recorded state still says Loading.
        var status = Assert.Single(await target.Control.ReadStatusesAsync("killed", CancellationToken.None));
        Assert.Equal((ReplicationState.Failed, (string?)null, "molt_killed"), (status.State, status.HeldBy, status.Slot));
        Assert.Contains("Start-MoltBulkLoad -FetchId 'killed' -Resume", status.Error, StringComparison.Ordinal);
        Assert.Contains("Remove-MoltReplication", status.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("continues from the checkpoint", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_whose_process_ended_while_streaming_is_failed_unheld_and_resumed_from_its_checkpoint()
    {
        await using var target = await fixture.NewTargetAsync("abandoned_stream", "SELECT 1");
        await using (await target.Control.ClaimAsync("killed", CancellationToken.None))
        {
            await target.Control.PublishAsync(new ReplicationStatus("killed", ReplicationState.Streaming, DateTimeOffset.UtcNow), CancellationToken.None);
            Assert.NotNull(Assert.Single(await target.Control.ReadStatusesAsync("killed", CancellationToken.None)).HeldBy);
        }

        var status = Assert.Single(await target.Control.ReadStatusesAsync("killed", CancellationToken.None));
        Assert.Equal((ReplicationState.Failed, (string?)null), (status.State, status.HeldBy));
        Assert.Contains("Resume-MoltReplication continues from the checkpoint", status.Error, StringComparison.Ordinal);
    }
}
