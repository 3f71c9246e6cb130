namespace Molt.Engine.Replication;

/// <summary>
/// How often the loop looks for stop requests, and how it retries: an aborted target transaction is applied again, and a
/// lost source stream started again from the checkpoint, after an exponential backoff with jitter, up to
/// <see cref="MaxAttempts"/> times in a row (then the stream fails with the checkpoint intact, for a Resume).
/// </summary>
internal sealed record ReplicationTiming
{
    public static ReplicationTiming Default { get; } = new();

    public TimeSpan StopPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    public int MaxAttempts { get; init; } = 30;

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Full jitter: a random delay up to the exponential bound, so conflicting writers do not retry in step.</summary>
    public TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(MaxBackoff.TotalMilliseconds, InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30) - 1)));
}
