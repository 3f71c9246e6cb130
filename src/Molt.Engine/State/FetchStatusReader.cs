using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Postgres;

namespace Molt.Engine.State;

/// <summary>A recorded run with its shards and exceptions, as Get-MoltFetchStatus shows it.</summary>
public sealed record FetchRunReport(LoadRun Run, IReadOnlyList<ShardState> Shards, IReadOnlyList<LoadException> Exceptions);

/// <summary>Reads the load runs recorded in a target's <c>_molt</c> schema.</summary>
public static class FetchStatusReader
{
    public static async Task<IReadOnlyList<FetchRunReport>> ReadAsync(EndpointAddress target, string? fetchId, CancellationToken cancellationToken)
    {
        await using (await PostgresConnections.OpenAsync(target, cancellationToken).ConfigureAwait(false))
        {
        }

        await using var dataSource = PostgresConnections.CreateDataSource(target);
        var store = new LoadStateStore(dataSource);
        var runs = fetchId is null
            ? await store.ListRunsAsync(cancellationToken).ConfigureAwait(false)
            : (await store.FindRunAsync(fetchId, cancellationToken).ConfigureAwait(false)) is { } found ? [found] : [];
        var reports = new List<FetchRunReport>();
        foreach (var run in runs)
        {
            reports.Add(new FetchRunReport(run, await store.ReadShardsAsync(run.FetchId, null, cancellationToken).ConfigureAwait(false),
                await store.ReadExceptionsAsync(run.FetchId, cancellationToken).ConfigureAwait(false)));
        }

        return reports;
    }
}
