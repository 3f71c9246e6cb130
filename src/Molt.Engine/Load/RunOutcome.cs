using Molt.Engine.Schema;
using Molt.Engine.State;

namespace Molt.Engine.Load;

/// <summary>
/// How a run ends, decided from the whole run's recorded shards rather than from this attempt's tables alone: it
/// succeeded only when every table it planned has shards and all of them are done, and no table failed. A planned
/// table that failed nowhere but is not all in (declined at a -Confirm prompt, or never split) is pending.
/// </summary>
internal sealed record RunOutcome(string Status, IReadOnlyList<TableName> FailedTables, IReadOnlyList<TableName> PendingTables)
{
    public static RunOutcome Of(IEnumerable<TableName> planned, IReadOnlyList<ShardState> shards, IEnumerable<TableLoadResult> results)
    {
        var failed = results.Where(r => r.Status == TableLoadStatus.Failed).Select(r => r.Table).ToHashSet();
        var split = shards.Select(s => s.SourceTable).ToHashSet(StringComparer.Ordinal);
        var unfinished = shards.Where(s => !s.IsDone).Select(s => s.SourceTable).ToHashSet(StringComparer.Ordinal);
        var pending = planned.Where(t => !failed.Contains(t) && (!split.Contains(t.ToString()) || unfinished.Contains(t.ToString()))).Order().ToList();
        return new RunOutcome(failed.Count == 0 && pending.Count == 0 ? RunStatus.Succeeded : RunStatus.Failed, failed.Order().ToList(), pending);
    }
}
