using Molt.Engine.Endpoints;
using Molt.Engine.Logging;
using Molt.Engine.Sessions;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Verify;

internal static class CompareHarness
{
    public static async Task<(IReadOnlyList<TableComparison> Tables, List<RowDifference> Differences)> CompareAsync(string sourceUri, string targetUri,
        CompareOptions options, CancellationToken ct = default)
    {
        using var log = MoltLogSession.None();
        var differences = new List<RowDifference>();
        var tables = await CompareSession.RunAsync(EndpointAddress.Parse(sourceUri), EndpointAddress.Parse(targetUri), options with { Detailed = true },
            new CompareCallbacks { Difference = d => { lock (differences) { differences.Add(d); } } }, log, ct);
        return (tables, differences);
    }
}
