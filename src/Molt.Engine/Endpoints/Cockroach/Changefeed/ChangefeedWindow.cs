using Molt.Engine.Replication;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>Bounds of the windowing buffer.</summary>
internal sealed record ChangefeedWindowOptions
{
    /// <summary>Rows kept in memory up to this many bytes; the rest spill to a temporary file.</summary>
    public long MemoryBytes { get; init; } = 64L << 20;

    public string? SpillDirectory { get; init; }

    /// <summary>
    /// An empty window is still sent as an empty transaction once this much time has been resolved since the last one sent,
    /// so the checkpoint keeps moving while the target is idle and a restart stays within gc.ttlseconds.
    /// </summary>
    public TimeSpan IdleCommitInterval { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Turns changefeed rows into source transactions. A changefeed gives no transactional order across keys, and sends rows
/// at least once; a resolved timestamp "guarantees that no previously unseen rows with an earlier update timestamp will
/// be emitted" (https://www.cockroachlabs.com/docs/stable/changefeed-messages#resolved-messages; the docs suggest exactly
/// this: "buffering records in between timestamp closures", same page). So rows are buffered until a resolved timestamp
/// closes the window, then sent as one transaction: Begin, the rows in <c>updated</c> order, Commit at the resolved HLC,
/// and the original database never sees a state the target never had.
/// <para>
/// A row at or below the last closed timestamp (the checkpoint at start) was applied already: it is a duplicate or a
/// re-delivery ("it may re-emit some or all of the messages starting from the previous checkpoint",
/// https://www.cockroachlabs.com/docs/stable/changefeed-messages#at-least-once-delivery) and is dropped, as is a second
/// copy of a buffered row (same table, key and <c>updated</c>). Rows above the resolved timestamp stay for a later window.
/// </para>
/// </summary>
internal sealed class ChangefeedWindow : IDisposable
{
    private readonly ChangefeedWindowOptions options;
    private readonly List<Pending> pending = [];
    private readonly HashSet<(ChangeTable Table, string Key, CockroachHlc Updated)> seen = [];
    private ChangefeedRowStore store;
    private CockroachHlc lastCommitted;
    private long sequence;

    public ChangefeedWindow(CockroachHlc checkpoint, ChangefeedWindowOptions options)
    {
        this.options = options;
        Closed = lastCommitted = checkpoint;
        store = new ChangefeedRowStore(options.MemoryBytes, options.SpillDirectory);
    }

    /// <summary>The latest resolved timestamp seen (the checkpoint before the first): everything up to it is closed.</summary>
    public CockroachHlc Closed { get; private set; }

    /// <summary>Rows buffered and not sent yet.</summary>
    public int PendingCount => pending.Count;

    /// <summary>Rows dropped as duplicates or re-deliveries so far.</summary>
    public long Dropped { get; private set; }

    /// <summary>The spill file while rows overflow memory.</summary>
    public string? SpillPath => store.SpillPath;

    /// <summary>Buffers a row; false when it was dropped (applied already, or already buffered).</summary>
    public bool Add(ChangefeedRow row)
    {
        if (row.Updated <= Closed || !seen.Add((row.Change.Table, row.KeyText, row.Updated)))
        {
            Dropped++;
            return false;
        }

        pending.Add(new Pending(row.Updated, DeleteFirst(row.Change), sequence++, row.Change.Table, row.KeyText, store.Add(row.Change)));
        return true;
    }

    /// <summary>
    /// Closes the window at <paramref name="resolved"/>: the changes of one source transaction with every buffered row at or
    /// below it, or nothing when there are none (and no idle commit is due) or the timestamp is not newer than the last.
    /// The result must be read to its end before the next <see cref="Add"/>.
    /// </summary>
    public IReadOnlyCollection<Change> Close(CockroachHlc resolved)
    {
        if (resolved <= Closed)
        {
            // Resolved messages go to every topic (and partition), so the same timestamp comes several times.
            return [];
        }

        Closed = resolved;
        var closing = pending.Where(p => p.Updated <= resolved).ToList();
        var idleCommitDue = resolved.WallTime - lastCommitted.WallTime >= options.IdleCommitInterval;
        if (closing.Count == 0 && !idleCommitDue)
        {
            return [];
        }

        pending.RemoveAll(p => p.Updated <= resolved);
        foreach (var row in closing)
        {
            seen.Remove((row.Table, row.Key, row.Updated));
        }

        // Rows still open move to a new store, so the closed ones' store (with its file) goes when the window is read.
        var closedStore = store;
        store = new ChangefeedRowStore(options.MemoryBytes, options.SpillDirectory);
        for (var i = 0; i < pending.Count; i++)
        {
            pending[i] = pending[i] with { Handle = store.Add(closedStore.Get(pending[i].Handle)) };
        }

        lastCommitted = resolved;
        closing.Sort(static (a, b) =>
            a.Updated.CompareTo(b.Updated) is var byTime and not 0 ? byTime
            : a.Order.CompareTo(b.Order) is var byKind and not 0 ? byKind
            : a.Sequence.CompareTo(b.Sequence));
        return new Transaction(resolved, closing, closedStore);
    }

    public void Dispose() => store.Dispose();

    /// <summary>
    /// Within one timestamp (one CockroachDB transaction, where each key appears once) deletes go first: a key change arrives
    /// as a delete and an insert (https://www.cockroachlabs.com/docs/stable/changefeed-messages, "the changefeed will produce
    /// a delete message and then an insert message"), and a unique value the deleted row held may be the inserted row's.
    /// </summary>
    private static int DeleteFirst(RowChange change) => change.Kind == RowChangeKind.Delete ? 0 : 1;

    private readonly record struct Pending(CockroachHlc Updated, int Order, long Sequence, ChangeTable Table, string Key, long Handle);

    /// <summary>One closed window as changes, read from the closed store, which is disposed once read to the end.</summary>
    private sealed class Transaction(CockroachHlc resolved, List<Pending> rows, ChangefeedRowStore closedStore) : IReadOnlyCollection<Change>
    {
        public int Count => rows.Count + 2;

        public IEnumerator<Change> GetEnumerator()
        {
            try
            {
                yield return new BeginChange(resolved.ToString());
                foreach (var row in rows)
                {
                    yield return closedStore.Get(row.Handle);
                }

                yield return new CommitChange(resolved, resolved.WallTime);
            }
            finally
            {
                closedStore.Dispose();
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
