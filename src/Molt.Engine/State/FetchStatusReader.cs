using Npgsql;

namespace Molt.Engine.State;

/// <summary>
/// A recorded run with its shards and exceptions, as Get-MoltFetchStatus shows it. A run recorded as running that no
/// session holds is reported as <see cref="RunStatus.Abandoned"/>.
/// </summary>
public sealed record FetchRunReport(LoadRun Run, IReadOnlyList<ShardState> Shards, IReadOnlyList<LoadFailureRecord> Exceptions)
{
    /// <summary>Every table of the run: those it recorded when it started, and those with shards (runs from before selections were kept).</summary>
    public IReadOnlyList<string> Tables =>
        (Run.Selection?.Tables.Select(t => t.ToString()) ?? []).Concat(Shards.Select(s => s.SourceTable)).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Tables with a shard that failed.</summary>
    public IReadOnlyList<string> FailedTables =>
        Shards.Where(s => s.Status == ShardStatus.Failed).Select(s => s.SourceTable).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Tables not loaded yet that did not fail: shards pending or interrupted, or no shards at all (declined at -Confirm).</summary>
    public IReadOnlyList<string> PendingTables
    {
        get
        {
            var done = Shards.GroupBy(s => s.SourceTable).Where(g => g.All(s => s.IsDone)).Select(g => g.Key);
            return Tables.Except(done).Except(FailedTables).ToList();
        }
    }
}

/// <summary>Reads the load runs recorded in a target's <c>_molt</c> schema.</summary>
internal static class FetchStatusReader
{
    /// <param name="lease">How the target's server holds a run's claim: a running run whose claim no session holds is abandoned.</param>
    public static async Task<IReadOnlyList<FetchRunReport>> ReadAsync(NpgsqlDataSource dataSource, RunLeaseKind lease, string? fetchId,
        CancellationToken cancellationToken)
    {
        var store = new LoadStateStore(dataSource);
        var runs = fetchId is null
            ? await store.ListRunsAsync(cancellationToken).ConfigureAwait(false)
            : (await store.FindRunAsync(fetchId, cancellationToken).ConfigureAwait(false)) is { } found ? [found] : [];
        var reports = new List<FetchRunReport>();
        foreach (var run in runs)
        {
            var abandoned = run.Status == RunStatus.Running
                            && !await RunLease.IsHeldAsync(dataSource, lease, run.FetchId, cancellationToken).ConfigureAwait(false);
            reports.Add(new FetchRunReport(abandoned ? run with { Status = RunStatus.Abandoned } : run,
                await store.ReadShardsAsync(run.FetchId, null, cancellationToken).ConfigureAwait(false),
                await store.ReadExceptionsAsync(run.FetchId, cancellationToken).ConfigureAwait(false)));
        }

        return reports;
    }
}
