using System.Runtime.CompilerServices;
using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// An in-memory change source that behaves like a logical slot: committed transactions at growing LSNs, a confirmed
/// position, an end that keepalives report, and, unless <see cref="HonorsStart"/>, a restart from the confirmed position
/// (so that the loop's own guard against transactions sent twice is what the tests see). The target is always real.
/// </summary>
internal sealed class FakeChangeSource : IChangeSource
{
    private readonly object gate = new();
    private readonly List<(PostgresLsn Position, IReadOnlyList<Change> Changes)> transactions = [];
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong end = 0x1000;
    private PostgresLsn delivered = new(0);

    /// <summary>Start exclusive of the position the loop asks for, as the contract says (false: from the confirmed position).</summary>
    public bool HonorsStart { get; init; } = true;

    /// <summary>The slot's confirmed_flush position.</summary>
    public PostgresLsn Confirmed { get; private set; } = new(0x1000);

    public List<PostgresLsn> Confirms { get; } = [];

    /// <summary>Runs on every confirm, before it counts: throwing here is a process dying between commit and confirm.</summary>
    public Action<PostgresLsn>? OnConfirm { get; set; }

    /// <summary>
    /// Runs inside every read of a stream's idleness, before it is decided: what it does there happens between the
    /// consumer's readings, as another thread's work does when the consumer's thread is preempted.
    /// </summary>
    public Action? OnIdleRead { get; set; }

    /// <summary>The commit position of the last transaction a stream handed over whole.</summary>
    public PostgresLsn Delivered
    {
        get
        {
            lock (gate)
            {
                return delivered;
            }
        }
    }

    /// <summary>Fails the stream once, after this many changes were delivered (a lost source connection).</summary>
    public int? FailAfterChanges { get; set; }

    public int Starts { get; private set; }

    public PostgresLsn End
    {
        get
        {
            lock (gate)
            {
                return new PostgresLsn(end);
            }
        }
    }

    /// <summary>Commits a transaction of <paramref name="changes"/>; returns its commit position.</summary>
    public PostgresLsn Commit(params Change[] changes)
    {
        lock (gate)
        {
            end += 0x100;
            var position = new PostgresLsn(end);
            transactions.Add((position, changes));
            Signal();
            return position;
        }
    }

    /// <summary>WAL the slot skips (other tables, other databases): the end moves, nothing is sent.</summary>
    public void AdvanceEnd(ulong bytes)
    {
        lock (gate)
        {
            end += bytes;
            Signal();
        }
    }

    public Task<IChangeStream> StartAsync(SourcePosition from, IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken)
    {
        Starts++;
        var start = HonorsStart ? (PostgresLsn)from : Confirmed;
        return Task.FromResult<IChangeStream>(new Stream(this, start));
    }

    public Task<SourcePosition> ReadCurrentEndAsync(CancellationToken cancellationToken) => Task.FromResult<SourcePosition>(End);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void Signal()
    {
        var old = changed;
        changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.SetResult();
    }

    private sealed class Stream(FakeChangeSource source, PostgresLsn start) : IChangeStream
    {
        private PostgresLsn delivered = start;
        private bool midTransaction;

        public SourcePosition? KnownEnd => source.End;

        public bool IsIdle
        {
            get
            {
                source.OnIdleRead?.Invoke();
                lock (source.gate)
                {
                    return !midTransaction && !source.transactions.Any(t => t.Position.Value > delivered.Value);
                }
            }
        }

        public async IAsyncEnumerable<Change> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var sent = 0;
            while (true)
            {
                (PostgresLsn Position, IReadOnlyList<Change> Changes)? next;
                Task wait;
                lock (source.gate)
                {
                    next = source.transactions.FirstOrDefault(t => t.Position.Value > delivered.Value) is { Changes: not null } found ? found : null;
                    wait = source.changed.Task;
                }

                if (next is null)
                {
                    await wait.WaitAsync(cancellationToken);
                    continue;
                }

                midTransaction = true;
                yield return new BeginChange("tx");
                foreach (var change in next.Value.Changes)
                {
                    if (source.FailAfterChanges is { } limit && ++sent > limit)
                    {
                        source.FailAfterChanges = null;
                        throw new TransientSourceException("The fake source lost its connection.", new IOException("reset"));
                    }

                    yield return change;
                }

                delivered = next.Value.Position;
                lock (source.gate)
                {
                    source.delivered = delivered;
                }

                midTransaction = false;
                yield return new CommitChange(next.Value.Position, DateTimeOffset.UtcNow);
            }
        }

        public ValueTask ConfirmAsync(SourcePosition position, CancellationToken cancellationToken)
        {
            var lsn = (PostgresLsn)position;
            source.OnConfirm?.Invoke(lsn);
            lock (source.gate)
            {
                source.Confirms.Add(lsn);
                if (lsn.Value > source.Confirmed.Value)
                {
                    source.Confirmed = lsn;
                }
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
