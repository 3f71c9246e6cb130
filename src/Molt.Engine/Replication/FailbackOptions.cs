namespace Molt.Engine.Replication;

/// <summary>How a failback stream runs: the forward stream it undoes, where it starts, when it stops.</summary>
public sealed record FailbackOptions
{
    /// <summary>The migration's FetchId: the forward stream whose target changes are sent back.</summary>
    public required string FetchId { get; init; }

    /// <summary>
    /// A target position to start after (its text form, e.g. "16/B374D848"), instead of the one forward replication
    /// recorded when it stopped; the failback slot must still hold it.
    /// </summary>
    public string? StartAt { get; init; }

    public TimeSpan StatusInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Drain to the target's end seen when the stream first catches up, then stop.</summary>
    public bool StopWhenCaughtUp { get; init; }

    public TruncateHandling Truncates { get; init; } = TruncateHandling.Apply;

    public ApplyBatchLimits Batch { get; init; } = ApplyBatchLimits.Default;

    /// <summary>
    /// What the migration's load made of a MySQL or MariaDB original's zero dates (its -ZeroDateHandling): under
    /// Sentinel, failback writes the sentinel back as the zero date.
    /// </summary>
    public Schema.ZeroDateHandling ZeroDates { get; init; } = Schema.ZeroDateHandling.Null;

    /// <summary>The options of the replication loop that runs the failback stream.</summary>
    internal ReplicationOptions Loop(ApplyBatchLimits batch) => new()
    {
        FetchId = FetchId,
        StatusInterval = StatusInterval,
        StopWhenCaughtUp = StopWhenCaughtUp,
        Truncates = Truncates,
        Batch = batch,
    };
}
