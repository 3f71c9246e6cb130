using Molt.Engine.Replication;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// Stop-MoltReplication -Failback returns the first status it reads as stopped: the failback checkpoint copy that status
/// readers count changes from must be in place before the stream row says so (read in between, it counted 0 changes).
/// </summary>
[Collection(ApplyTargetCollection.Name)]
public sealed class PublishedStatusOrderTests(ApplyTargetFixture fixture)
{
    [Fact]
    public async Task A_failback_stream_shown_stopped_already_has_its_final_checkpoint()
    {
        await using var target = await fixture.NewTargetAsync("status_order", "SELECT 1");
        var control = target.Control.For(ReplicationDirection.Failback);
        await using (await control.ClaimAsync("fb", CancellationToken.None))
        {
            await control.PublishAsync(Status(ReplicationState.Streaming, inserts: 3), CancellationToken.None);

            // What a reader would see of the checkpoint at the instant the row turns Stopped.
            await using (var command = target.DataSource.CreateCommand("""
                CREATE TABLE seen (inserts bigint);
                CREATE FUNCTION record_seen() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO seen SELECT inserts FROM "_molt"."replication_checkpoints" WHERE fetch_id = NEW.fetch_id;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER record_seen BEFORE UPDATE ON "_molt"."replication_streams"
                    FOR EACH ROW WHEN (NEW.state = 'Stopped') EXECUTE FUNCTION record_seen();
                """))
            {
                await command.ExecuteNonQueryAsync();
            }

            await control.PublishAsync(Status(ReplicationState.Stopped, inserts: 204), CancellationToken.None);
        }

        await using (var read = target.DataSource.CreateCommand("SELECT inserts FROM seen"))
        {
            Assert.Equal(204L, await read.ExecuteScalarAsync());
        }

        var status = Assert.Single(await control.ReadStatusesAsync("fb", CancellationToken.None), s => s.Direction == ReplicationDirection.Failback);
        Assert.Equal((ReplicationState.Stopped, 204L), (status.State, status.Inserts));
    }

    private static ReplicationStatus Status(ReplicationState state, long inserts) =>
        new("fb", state, DateTimeOffset.UtcNow)
        {
            Direction = ReplicationDirection.Failback,
            Checkpoint = new ReplicationCheckpoint("fb", new PostgresLsn(0x2000 + (ulong)inserts), DateTimeOffset.UtcNow) { Transactions = 1, Inserts = inserts },
        };
}
