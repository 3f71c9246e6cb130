using System.Diagnostics;
using Serilog;

namespace Molt.Engine.Replication;

/// <summary>
/// The milestones of one stream's start, each logged once with the time since the run began (source stream opened,
/// first change read, first batch closed, first target commit): a large backlog's catch-up spends seconds before its
/// first commit, and these say where.
/// </summary>
internal sealed class StartupTimeline(ILogger log)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly HashSet<string> seen = [];

    /// <summary>Logs <paramref name="milestone"/> the first time it is reached.</summary>
    public void Reached(string milestone)
    {
        if (seen.Add(milestone))
        {
            log.Information("Stream start-up: {Milestone} after {Milliseconds} ms", milestone, clock.ElapsedMilliseconds);
        }
    }

    /// <summary>As <see cref="Reached(string)"/>, with what the milestone held (a batch's changes).</summary>
    public void Reached(string milestone, long count)
    {
        if (seen.Add(milestone))
        {
            log.Information("Stream start-up: {Milestone} ({Count} changes) after {Milliseconds} ms", milestone, count, clock.ElapsedMilliseconds);
        }
    }
}
