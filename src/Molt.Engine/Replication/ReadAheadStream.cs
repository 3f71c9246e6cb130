using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Molt.Engine.Replication;

/// <summary>
/// Reads and decodes a source stream's next changes while the loop applies and commits the ones before: without it, a
/// backlog's reading stops for every target round trip, and the source's decoding and the target's writing take turns
/// instead of running together. What is read ahead is bounded by changes and by bytes (a change larger than the bound
/// passes alone), so memory stays flat whatever the backlog. Errors reach the consumer after the changes read before them.
/// The stream is idle only when the inner stream is and every change it handed over has been taken and dealt with by the
/// consumer: the loop confirms the source's end only then, so nothing read ahead and not yet applied is ever confirmed.
/// </summary>
internal sealed class ReadAheadStream(IChangeStream inner, int maxChanges = ReadAheadStream.DefaultChanges, long maxBytes = ReadAheadStream.DefaultBytes)
    : IChangeStream
{
    /// <summary>About one full batch of pgbench-sized changes.</summary>
    public const int DefaultChanges = 10_000;

    public const long DefaultBytes = 8L * 1024 * 1024;

    private readonly Channel<(Change Change, long Size)> queue = Channel.CreateUnbounded<(Change, long)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource stopping = new();
    private readonly object gate = new();
    private int queued;
    private long queuedBytes;
    private long received;
    private long handled;
    private TaskCompletionSource? room;
    private Exception? failure;
    private Task? producer;

    public SourcePosition? KnownEnd => inner.KnownEnd;

    public bool IsIdle => TryReadIdleEnd(out _);

    /// <summary>
    /// True when nothing is pending between the last change the consumer dealt with (it asked for the next) and
    /// <paramref name="end"/>, the inner stream's known end read with it. The inner stream reads on while the consumer
    /// looks, so its idleness and its end are read between two readings of the count of changes it handed over: a whole
    /// transaction read ahead in between (its end then past changes not applied) moves the count and makes this false.
    /// </summary>
    public bool TryReadIdleEnd(out SourcePosition? end)
    {
        var before = Interlocked.Read(ref received);
        var idle = inner.IsIdle;
        end = inner.KnownEnd;
        var after = Interlocked.Read(ref received);
        return idle && before == after && Interlocked.Read(ref handled) == after;
    }

    /// <summary>
    /// True while a tenth of the read-ahead bound or more waits for the consumer: a backlog, not the few changes a steady
    /// stream has always just read.
    /// </summary>
    public bool IsBehind
    {
        get
        {
            lock (gate)
            {
                return queued >= maxChanges / 10 || queuedBytes >= maxBytes / 10;
            }
        }
    }

    /// <summary>The changes read ahead and their size, as one reading.</summary>
    public (int Changes, long Bytes) Queued
    {
        get
        {
            lock (gate)
            {
                return (queued, queuedBytes);
            }
        }
    }

    public async IAsyncEnumerable<Change> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (producer is not null)
        {
            throw new InvalidOperationException("A change stream is read once, by one consumer.");
        }

        producer = Task.Run(() => ProduceAsync(stopping.Token), CancellationToken.None);
        await foreach (var (change, size) in queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            TaskCompletionSource? freed;
            lock (gate)
            {
                queued--;
                queuedBytes -= size;
                (freed, room) = (room, null);
            }

            freed?.TrySetResult();
            yield return change;
            // Only now, when the consumer asks for the next: until then the change may be in its hands and not yet dealt with.
            Interlocked.Increment(ref handled);
        }

        // The queue is complete: the inner stream failed (thrown here, after every change it sent before), or it ended.
        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    public ValueTask ConfirmAsync(SourcePosition position, CancellationToken cancellationToken) => inner.ConfirmAsync(position, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (producer is not null)
        {
            await producer.ConfigureAwait(false);
        }

        stopping.Dispose();
        await inner.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Never throws: what the inner stream throws is handed to the consumer after the changes before it; its end, as an end.</summary>
    private async Task ProduceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var change in inner.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // Counted before the inner stream is asked for more, so before it can be idle again past this change.
                Interlocked.Increment(ref received);
                var size = BatchLog.Size(change);
                await WaitForRoomAsync(size, cancellationToken).ConfigureAwait(false);
                queue.Writer.TryWrite((change, size));
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        queue.Writer.TryComplete();
    }

    private async Task WaitForRoomAsync(long size, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (gate)
            {
                if (queued == 0 || (queued < maxChanges && queuedBytes + size <= maxBytes))
                {
                    queued++;
                    queuedBytes += size;
                    return;
                }

                room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = room.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
