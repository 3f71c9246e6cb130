using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Sessions;
using Molt.Engine.State;
using Molt.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Molt.Engine.Tests.Replication;

/// <summary>What the replication session tests share: waiting on a condition, and recording the states a stream reports.</summary>
internal static class SessionTestSupport
{
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(60);
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"The condition did not come true within {limit.TotalSeconds:F0} s.");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Loads and starts a stream (its source and target reached through fault proxies), runs <paramref name="scenario"/>
    /// (writes and faults) once it streams, then asks for a stop at the source's end from another session (through
    /// <paramref name="directTarget"/>) and returns the final status. The stream must outlive every fault.
    /// </summary>
    public static async Task<ReplicationStatus> StreamUnderFaultsAsync(EndpointAddress source, EndpointAddress target, EndpointAddress directTarget,
        ReplicationOptions options, RecordedLog log, ITestOutputHelper output, Func<CancellationToken, Task> scenario, CancellationToken ct)
    {
        using var logSession = new MoltLogSession(log.Record, minimumLevel: MoltLogLevel.Debug);
        await using var session = await ReplicationSession.OpenAsync(source, target, options, logSession, ct);
        var states = new List<ReplicationState>();
        BulkLoadSummary? loaded = null;
        var running = session.StartAsync(await session.PlanAsync(ct), new BulkLoadCallbacks(), summary => loaded = summary, new StateReports(states), ct);
        await WaitUntilAsync(() =>
        {
            lock (states)
            {
                return Task.FromResult(states.Contains(ReplicationState.Streaming) || running.IsCompleted);
            }
        });
        Assert.False(running.IsFaulted, running.Exception?.ToString());
        Assert.Equal(RunStatus.Succeeded, loaded!.Status);

        var scenarioRun = scenario(ct);
        if (await Task.WhenAny(scenarioRun, running) == running)
        {
            // The stream must outlive every fault: its own error says why it did not.
            output.WriteLine(running.Exception?.ToString() ?? running.Status.ToString());
            await running;
            Assert.Fail("The stream stopped during the faults.");
        }

        await scenarioRun;
        Assert.False(running.IsCompleted, $"The stream ended during the faults: {running.Status} {running.Exception}");
        // A claim lost with a target connection is taken again at the stream's next stop poll; until then the stream is
        // shown not running, and a stop request refused.
        await WaitUntilAsync(async () => running.IsCompleted ||
                                         (await ReplicationControl.ReadStatusAsync(directTarget, options.FetchId, ct)).Any(s => s.HeldBy is not null));
        try
        {
            await ReplicationControl.RequestStopAsync(directTarget, options.FetchId!, immediately: false, ct);
        }
        catch (MoltException) when (running.IsCompleted)
        {
            // The stream failed as the scenario ended: its own error says why.
            await running;
            throw;
        }

        var stopped = await running;
        Assert.Equal(ReplicationState.Stopped, stopped.State);
        return stopped;
    }

    /// <summary>The address <paramref name="uri"/> names, reached through <paramref name="proxy"/>, with more URI query options if given.</summary>
    public static EndpointAddress Through(string uri, TcpFaultProxy proxy, string? options = null)
    {
        var builder = new UriBuilder(uri) { Host = proxy.Host, Port = proxy.Port };
        if (options is not null)
        {
            builder.Query = builder.Query.TrimStart('?') + "&" + options;
        }

        return EndpointAddress.Parse(builder.Uri.AbsoluteUri);
    }
}

/// <summary>A session's log as it is written, for the fault tests: warnings counted by text, everything written to the test output at the end.</summary>
internal sealed class RecordedLog(ITestOutputHelper output)
{
    private readonly List<MoltLogEvent> events = [];

    public void Record(MoltLogEvent e)
    {
        lock (events)
        {
            events.Add(e);
        }
    }

    /// <summary>Warnings logged so far that say <paramref name="text"/>.</summary>
    public int Logged(string text) => Warnings(text).Count;

    /// <summary>The retries are visible in the log, each with its attempt number.</summary>
    public IReadOnlyList<MoltLogEvent> AssertLogged(string text, int atLeast)
    {
        var matches = Warnings(text);
        Assert.True(matches.Count >= atLeast, $"'{text}' was logged {matches.Count} times, not at least {atLeast}.");
        return matches;
    }

    public void WriteToOutput()
    {
        lock (events)
        {
            foreach (var e in events)
            {
                output.WriteLine($"{e.Timestamp:HH:mm:ss.fff} {e.Level} {e.Message} {e.Exception?.Split('\n')[0]}");
            }
        }
    }

    private List<MoltLogEvent> Warnings(string text)
    {
        lock (events)
        {
            return events.Where(e => e.Level == MoltLogLevel.Warning && e.Message.Contains(text, StringComparison.Ordinal)).ToList();
        }
    }
}

/// <summary>Records every state a stream reports, in order.</summary>
internal sealed class StateReports(List<ReplicationState> states) : IProgress<ReplicationStatus>
{
    public void Report(ReplicationStatus value)
    {
        lock (states)
        {
            states.Add(value.State);
        }
    }
}
