using System.Diagnostics;
using System.Globalization;

namespace Molt.Engine.Load;

/// <summary>
/// Where a load's time goes, phase by phase, in the order the phases first ran: logged when the load ends (-Verbose) and
/// kept in its summary, so the gap to a raw COPY can be read off a user's own run. Work done in parallel (the shards'
/// copies, the tables) adds up each task's time, so those phases may sum to more than the run took.
/// </summary>
internal sealed class LoadTimings
{
    private readonly object gate = new();
    private readonly List<LoadPhase> phases = [];

    public async Task<T> TimeAsync<T>(string phase, Func<Task<T>> work)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            return await work().ConfigureAwait(false);
        }
        finally
        {
            Add(phase, clock.Elapsed);
        }
    }

    public Task TimeAsync(string phase, Func<Task> work) => TimeAsync(phase, async () =>
    {
        await work().ConfigureAwait(false);
        return true;
    });

    public void Add(string phase, TimeSpan elapsed)
    {
        lock (gate)
        {
            var index = phases.FindIndex(p => p.Name == phase);
            if (index < 0)
            {
                phases.Add(new LoadPhase(phase, elapsed, 1));
            }
            else
            {
                phases[index] = phases[index] with { Duration = phases[index].Duration + elapsed, Count = phases[index].Count + 1 };
            }
        }
    }

    public IReadOnlyList<LoadPhase> Phases()
    {
        lock (gate)
        {
            return [.. phases];
        }
    }

    /// <summary>One line: "catalog 0.04 s, snapshot 0.01 s, copy 6.10 s (2x), ...".</summary>
    public string Describe() => string.Join(", ", Phases().Select(p => p.ToString()));
}

/// <summary>One phase of a load: its time summed over the <paramref name="Count"/> times it ran.</summary>
public sealed record LoadPhase(string Name, TimeSpan Duration, int Count)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name} {Duration.TotalSeconds:F2} s") + (Count > 1 ? $" ({Count}x)" : "");
}
