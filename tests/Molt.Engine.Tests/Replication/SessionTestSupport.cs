using Molt.Engine.Replication;
using Xunit;

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
