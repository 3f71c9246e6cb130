using Molt.Engine.Schema;
using Serilog;

namespace Molt.Engine.Replication;

/// <summary>
/// Applies one stream: reads committed source transactions in commit order, groups several into one target transaction
/// (<see cref="ApplyBatch"/>, bounded by rows, bytes and time), commits them with their checkpoint, and only then
/// confirms the position to the source, so a crash at any instant loses nothing and applies nothing twice. When nothing
/// is pending it confirms the source's known end, so an idle source releases its log. It stops at a transaction
/// boundary when asked (a stop request, -StopAt, -StopWhenCaughtUp), never past the position asked for, and reports the
/// target's own position then, where failback starts. The loop knows only the contracts: forward replication and
/// failback are this loop with other endpoints.
/// </summary>
internal sealed class ReplicationLoop(IChangeSource source, IChangeApplier applier, ITargetPosition targetPosition, IReplicationControl control,
    ReplicationOptions options, ReplicationTiming timing, ILogger log)
{
    private readonly IChangeSource source = source;
    private readonly IChangeApplier applier = applier;
    private readonly ITargetPosition targetPosition = targetPosition;
    private readonly IReplicationControl control = control;
    private readonly ReplicationOptions options = options;
    private readonly ReplicationTiming timing = timing;
    private readonly ILogger log = log;

    /// <summary>Claims the stream, applies it from its checkpoint (or <paramref name="start"/> when it has none) until it stops, and returns the final status.</summary>
    /// <param name="slot">Named in statuses: the source object that keeps the log for the stream.</param>
    /// <exception cref="MoltException">The stream is held elsewhere, the source or target refused something, or retries ran out; the checkpoint stands.</exception>
    public async Task<ReplicationStatus> RunAsync(string fetchId, IReadOnlyList<TablePlan> plans, SourcePosition start, string? slot,
        IProgress<ReplicationStatus>? progress, CancellationToken cancellationToken)
    {
        await using var claim = await control.ClaimAsync(fetchId, cancellationToken).ConfigureAwait(false);
        return await RunClaimedAsync(fetchId, plans, start, slot, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>As <see cref="RunAsync"/>, for a caller that holds the stream's claim already (a Start holds it through its load).</summary>
    public async Task<ReplicationStatus> RunClaimedAsync(string fetchId, IReadOnlyList<TablePlan> plans, SourcePosition start, string? slot,
        IProgress<ReplicationStatus>? progress, CancellationToken cancellationToken)
    {
        var checkpoint = await applier.ReadCheckpointAsync(fetchId, cancellationToken).ConfigureAwait(false);
        if (checkpoint is not null && !checkpoint.Position.HasReached(start))
        {
            checkpoint = null;
        }

        var run = new Run(this, fetchId, plans, new ReplicationProgress(fetchId, slot, start, checkpoint), progress);
        await using (run.ConfigureAwait(false))
        {
            return await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One run of the loop: its batch, its stop target, its timers.</summary>
    private sealed class Run : IAsyncDisposable
    {
        private readonly ReplicationLoop loop;
        private readonly string fetchId;
        private readonly IReadOnlyList<TablePlan> plans;
        private readonly ReplicationProgress progress;
        private readonly IProgress<ReplicationStatus>? reports;
        private readonly ApplyBatch batch;
        private readonly TimeSpan statusInterval;
        private readonly StartupTimeline startup;
        private SourcePosition? stopAt;
        private bool stopImmediately;
        private bool stopRequested;
        private bool inTransaction;
        private bool caughtUp;
        private SourcePosition? confirmed;
        private DateTimeOffset nextStatus;
        private DateTimeOffset nextPoll;
        private Task<SourcePosition?>? endRead;

        public Run(ReplicationLoop loop, string fetchId, IReadOnlyList<TablePlan> plans, ReplicationProgress progress, IProgress<ReplicationStatus>? reports)
        {
            this.loop = loop;
            this.fetchId = fetchId;
            this.progress = progress;
            this.reports = reports;
            this.plans = plans;
            startup = new StartupTimeline(loop.log);
            batch = new ApplyBatch(loop.applier, plans, loop.options.Batch, loop.timing, loop.log, progress.Retried);
            statusInterval = loop.options.StatusInterval > TimeSpan.Zero ? loop.options.StatusInterval : TimeSpan.FromSeconds(10);
            stopAt = loop.options.StopAt is { } text ? SourcePosition.Parse(progress.Position.Notation, text) : null;
        }

        private ReplicationState State => stopAt is not null || stopImmediately ? ReplicationState.Draining
            : caughtUp ? ReplicationState.CaughtUp : ReplicationState.Streaming;

        public async Task<ReplicationStatus> ExecuteAsync(CancellationToken cancellationToken)
        {
            try
            {
                await PublishAsync(State, cancellationToken).ConfigureAwait(false);
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        return await StreamAsync(() => attempt = 1, cancellationToken).ConfigureAwait(false);
                    }
                    catch (TransientSourceException ex) when (attempt < loop.timing.MaxAttempts)
                    {
                        // Nothing after the checkpoint is lost: the source sends it again from there.
                        await batch.AbandonAsync().ConfigureAwait(false);
                        inTransaction = false;
                        progress.Retried();
                        loop.log.Warning("The source stream failed; starting it again from {Position} (attempt {Attempt}): {Reason}", progress.Position, attempt + 1, ex.Message);
                        await Task.Delay(loop.timing.Backoff(attempt), cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                await PublishQuietlyAsync(progress.Status(ReplicationState.Stopped, caughtUp, stopAt)).ConfigureAwait(false);
                throw;
            }
            catch (Exception ex)
            {
                await PublishQuietlyAsync(progress.Status(ReplicationState.Failed, caughtUp, stopAt) with { Error = ex.Message }).ConfigureAwait(false);
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (endRead is not null)
            {
                try
                {
                    await endRead.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // The run was cancelled; the status no longer needs the end.
                }
            }

            await batch.DisposeAsync().ConfigureAwait(false);
        }

        private async Task<ReplicationStatus> StreamAsync(Action progressed, CancellationToken cancellationToken)
        {
            startup.Reached("status published, opening the source stream");
            await using var stream = new ReadAheadStream(await loop.source.StartAsync(progress.Position, plans, cancellationToken).ConfigureAwait(false));
            startup.Reached("source stream opened (slot, publication and replica identities checked)");
            using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var changes = stream.ReadAsync(reading.Token).GetAsyncEnumerator(reading.Token);
            Task<bool>? pending = null;
            try
            {
                (nextStatus, nextPoll) = (DateTimeOffset.UtcNow + statusInterval, DateTimeOffset.UtcNow);
                if (await OnTimeAsync(stream, cancellationToken).ConfigureAwait(false) is { } stoppedAtOnce)
                {
                    return stoppedAtOnce;
                }

                while (true)
                {
                    var next = changes.MoveNextAsync();
                    bool more;
                    if (next.IsCompletedSuccessfully)
                    {
                        more = next.Result;
                    }
                    else
                    {
                        pending = next.AsTask();
                        while (!pending.IsCompleted)
                        {
                            var wait = NextDeadline() - DateTimeOffset.UtcNow;
                            if (wait > TimeSpan.Zero)
                            {
                                await Task.WhenAny(pending, Task.Delay(wait, cancellationToken)).ConfigureAwait(false);
                            }

                            cancellationToken.ThrowIfCancellationRequested();
                            if (!pending.IsCompleted && await OnTimeAsync(stream, cancellationToken).ConfigureAwait(false) is { } stopped)
                            {
                                return stopped;
                            }
                        }

                        try
                        {
                            more = await pending.ConfigureAwait(false);
                        }
                        catch (MoltException)
                        {
                            pending = null;
                            await KeepCompleteTransactionsAsync(stream, cancellationToken).ConfigureAwait(false);
                            throw;
                        }

                        pending = null;
                    }

                    if (!more)
                    {
                        throw new TransientSourceException("The source's change stream ended.", new EndOfStreamException());
                    }

                    if (await OnChangeAsync(stream, changes.Current, progressed, cancellationToken).ConfigureAwait(false) is { } final)
                    {
                        return final;
                    }

                    if (DateTimeOffset.UtcNow >= NextDeadline() && await OnTimeAsync(stream, cancellationToken).ConfigureAwait(false) is { } stopped2)
                    {
                        return stopped2;
                    }
                }
            }
            finally
            {
                await reading.CancelAsync().ConfigureAwait(false);
                if (pending is not null)
                {
                    try
                    {
                        await pending.ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or TransientSourceException)
                    {
                        // The read was abandoned on purpose.
                    }
                }

                await changes.DisposeAsync().ConfigureAwait(false);
            }
        }

        /// <summary>
        /// The source refused to go on (a schema change, a lost slot): the batch's complete transactions are still good, so
        /// they are committed before the stream stops, and the one being read is left out.
        /// </summary>
        private async Task KeepCompleteTransactionsAsync(ReadAheadStream stream, CancellationToken cancellationToken)
        {
            try
            {
                if (inTransaction)
                {
                    await batch.DropTransactionAsync(cancellationToken).ConfigureAwait(false);
                    inTransaction = false;
                }

                await CommitBatchAsync(stream, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TransientApplyException or TransientSourceException or MoltException)
            {
                // The source's error is the one to report; the checkpoint stays where it was.
                loop.log.Warning("Could not commit the batch's complete transactions before stopping: {Reason}", ex.Message);
            }
        }

        /// <summary>Behind (a backlog read ahead waits), a batch fills to its size bounds or a longer time bound; otherwise it commits at its time bound.</summary>
        private bool BatchFull(ReadAheadStream stream) => stream.IsBehind ? batch.IsFullBehind : batch.IsFull;

        private DateTimeOffset NextDeadline()
        {
            var next = nextStatus < nextPoll ? nextStatus : nextPoll;
            return batch.HasTransactions && !inTransaction && batch.Deadline < next ? batch.Deadline : next;
        }

        private async Task<ReplicationStatus?> OnChangeAsync(ReadAheadStream stream, Change change, Action progressed, CancellationToken cancellationToken)
        {
            startup.Reached("first change read from the source");
            switch (change)
            {
                case BeginChange:
                    inTransaction = true;
                    caughtUp = false;
                    batch.BeginTransaction();
                    return null;
                case TruncateChange truncate when loop.options.Truncates == TruncateHandling.Refuse:
                    await KeepCompleteTransactionsAsync(stream, cancellationToken).ConfigureAwait(false);
                    throw new MoltException(MoltErrorKind.InvalidState, "TruncateRefused",
                        $"The source truncated {string.Join(", ", truncate.Tables)}, and truncates are refused. Nothing of that transaction is applied; the checkpoint is before it.",
                        "Empty the same tables on the target yourself and resume with truncates applied, or load the tables again.")
                    {
                        Target = string.Join(", ", truncate.Tables),
                    };
                case RowChange or TruncateChange:
                    await batch.AddAsync(change, cancellationToken).ConfigureAwait(false);
                    startup.Reached("first change written into the target transaction");
                    return null;
                case CommitChange commit:
                    inTransaction = false;
                    return await OnCommitAsync(stream, commit, progressed, cancellationToken).ConfigureAwait(false);
                default:
                    return null;
            }
        }

        private async Task<ReplicationStatus?> OnCommitAsync(ReadAheadStream stream, CommitChange commit, Action progressed, CancellationToken cancellationToken)
        {
            var last = batch.LastCommit?.Position ?? progress.Position;
            if (commit.Position.CompareWith(last) != PositionOrder.After)
            {
                // Sent again by a source that restarted before its position was confirmed: applied already.
                loop.log.Debug("Skipping a source transaction at {Position}, applied already", commit.Position);
                await batch.DropTransactionAsync(cancellationToken).ConfigureAwait(false);
                return null;
            }

            if (stopAt is not null && commit.Position.CompareWith(stopAt) == PositionOrder.After)
            {
                // Past the stop position: the drain ends before this transaction.
                await batch.DropTransactionAsync(cancellationToken).ConfigureAwait(false);
                return await StopAsync(stream, cancellationToken).ConfigureAwait(false);
            }

            batch.EndTransaction(commit);
            progress.SawEnd(commit.Position);
            var stopNow = stopImmediately || (stopAt is not null && commit.Position.HasReached(stopAt));
            if (stopNow || BatchFull(stream))
            {
                await CommitBatchAsync(stream, cancellationToken).ConfigureAwait(false);
                progressed();
            }

            return stopNow ? await StopAsync(stream, cancellationToken).ConfigureAwait(false) : null;
        }

        private async Task CommitBatchAsync(ReadAheadStream stream, CancellationToken cancellationToken)
        {
            if (!batch.HasTransactions)
            {
                return;
            }

            var commit = batch.LastCommit!;
            var totals = progress.Totals + batch.Counts;
            var checkpoint = new ReplicationCheckpoint(fetchId, commit.Position, commit.CommittedAt)
            {
                Transactions = totals.Transactions,
                Inserts = totals.Inserts,
                Updates = totals.Updates,
                Deletes = totals.Deletes,
            };
            startup.Reached("first batch closed", batch.Counts.Changes);
            await batch.CommitAsync(checkpoint, cancellationToken).ConfigureAwait(false);
            startup.Reached("first target commit");
            progress.Committed(checkpoint);
            await ConfirmAsync(stream, checkpoint.Position, cancellationToken).ConfigureAwait(false);
        }

        private async Task ConfirmAsync(ReadAheadStream stream, SourcePosition position, CancellationToken cancellationToken)
        {
            if (confirmed is null || position.CompareWith(confirmed) == PositionOrder.After)
            {
                await stream.ConfirmAsync(position, cancellationToken).ConfigureAwait(false);
                confirmed = position;
            }
        }

        /// <summary>The timers: batch age, idle confirmation, stop requests, caught-up detection, status.</summary>
        private async Task<ReplicationStatus?> OnTimeAsync(ReadAheadStream stream, CancellationToken cancellationToken)
        {
            var now = DateTimeOffset.UtcNow;
            if (!inTransaction && batch.HasTransactions && BatchFull(stream))
            {
                await CommitBatchAsync(stream, cancellationToken).ConfigureAwait(false);
            }

            // The end read with the idleness, never after it: the source is read ahead meanwhile, and a later end can lie past
            // transactions read and not yet applied.
            var idle = stream.TryReadIdleEnd(out var idleEnd) && !inTransaction && !batch.HasTransactions;
            progress.SawEnd(stream.KnownEnd);
            if (idle && idleEnd is not null)
            {
                // Nothing pending up to the end the source reported: let the source release its log up to there.
                await ConfirmAsync(stream, idleEnd, cancellationToken).ConfigureAwait(false);
            }

            caughtUp = idle;
            if (now >= nextPoll)
            {
                nextPoll = now + loop.timing.StopPollInterval;
                if (await PollStopAsync(stream, idle ? idleEnd : null, idle, cancellationToken).ConfigureAwait(false) is { } stopped)
                {
                    return stopped;
                }
            }

            if (now >= nextStatus)
            {
                nextStatus = now + statusInterval;
                TakeEndRead(cancellationToken);
                await PublishAsync(State, cancellationToken).ConfigureAwait(false);
            }

            return null;
        }

        /// <param name="idleEnd">The source's end when <paramref name="idle"/>, read with it.</param>
        private async Task<ReplicationStatus?> PollStopAsync(ReadAheadStream stream, SourcePosition? idleEnd, bool idle, CancellationToken cancellationToken)
        {
            if (!stopRequested && await ReadStopRequestAsync(cancellationToken).ConfigureAwait(false) is { } request)
            {
                if (!request.Immediately)
                {
                    var at = request.At ?? await loop.source.ReadCurrentEndAsync(cancellationToken).ConfigureAwait(false);
                    stopAt = stopAt is null || at.CompareWith(stopAt) == PositionOrder.Before ? at : stopAt;
                }

                // Only once the position is known: a source that fails to tell its end (restarting) has the request read again
                // after the stream starts again, where marking it first left the stream draining to nowhere for ever.
                stopRequested = true;
                stopImmediately |= request.Immediately;

                loop.log.Information("Stop requested at {RequestedAt}: draining to {StopAt}", request.RequestedAt, stopImmediately ? "the next commit" : stopAt);
                await PublishAsync(State, cancellationToken).ConfigureAwait(false);
            }
            else if (loop.options.StopWhenCaughtUp && stopAt is null && !stopImmediately && idle)
            {
                // First caught up: drain to the source's end as it is now (what committed while we looked is included).
                stopAt = await loop.source.ReadCurrentEndAsync(cancellationToken).ConfigureAwait(false);
                loop.log.Information("Caught up: draining to {StopAt}", stopAt);
            }

            if (inTransaction)
            {
                return null;
            }

            var reached = stopAt is not null && (progress.Position.HasReached(stopAt) || (idleEnd is not null && idleEnd.HasReached(stopAt)));
            if (stopImmediately || reached)
            {
                await CommitBatchAsync(stream, cancellationToken).ConfigureAwait(false);
                return await StopAsync(stream, cancellationToken).ConfigureAwait(false);
            }

            return null;
        }

        /// <summary>
        /// The stop request, if any. A target that cannot be reached now (restarting, its connection lost) is asked again at
        /// the next poll: the apply retries on its own, and failing the whole stream for a poll would stop it for nothing.
        /// </summary>
        private async Task<StopRequest?> ReadStopRequestAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await loop.control.ReadStopRequestAsync(fetchId, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not MoltException)
            {
                loop.log.Warning("Could not read the stream's stop requests from the target; asking again in {Interval}: {Reason}", loop.timing.StopPollInterval,
                    ex.Message);
                return null;
            }
        }

        private async Task<ReplicationStatus> StopAsync(ReadAheadStream stream, CancellationToken cancellationToken)
        {
            await CommitBatchAsync(stream, cancellationToken).ConfigureAwait(false);
            // A stop request is the cutover: from here the application writes to the target, and failback must be able to read that.
            var target = stopRequested
                ? await loop.targetPosition.AnchorAsync(fetchId, plans, cancellationToken).ConfigureAwait(false)
                : new TargetAnchor(await loop.targetPosition.ReadAsync(cancellationToken).ConfigureAwait(false), null);
            if (target.Warning is { } warning)
            {
                loop.log.Warning("Replication {FetchId} stopped, but failback cannot start from its target position: {Reason}", fetchId, warning);
            }

            if (stopRequested)
            {
                await loop.control.ClearStopRequestAsync(fetchId, cancellationToken).ConfigureAwait(false);
            }

            await RefreshEndAsync(cancellationToken).ConfigureAwait(false);
            var final = progress.Status(ReplicationState.Stopped, caughtUp, stopAt) with { TargetPosition = target.Position, FailbackSlot = target.Slot };
            loop.log.Information("Replication {FetchId} stopped at source position {Position}; target position {TargetPosition}", fetchId, final.SourcePosition,
                target.Position);
            await loop.control.PublishAsync(final, cancellationToken).ConfigureAwait(false);
            reports?.Report(final);
            return final;
        }

        private async Task RefreshEndAsync(CancellationToken cancellationToken) => progress.SawEnd(await ReadEndAsync(cancellationToken).ConfigureAwait(false));

        /// <summary>
        /// The status's source end, read in the background: a round trip to the source at every status would stall the
        /// apply for as long as the source takes to answer. The end read at one status is shown from the next on.
        /// </summary>
        private void TakeEndRead(CancellationToken cancellationToken)
        {
            if (endRead is { IsCompleted: true } done)
            {
                progress.SawEnd(done.Result);
                endRead = null;
            }

            endRead ??= ReadEndAsync(cancellationToken);
        }

        private async Task<SourcePosition?> ReadEndAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await loop.source.ReadCurrentEndAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The status can do with the end the stream last heard of; the stream itself notices a lost source.
                loop.log.Warning("Could not read the source's current end for the status: {Reason}", ex.Message);
                return null;
            }
        }

        private async Task PublishAsync(ReplicationState state, CancellationToken cancellationToken)
        {
            var status = progress.Status(state, caughtUp, stopAt);
            reports?.Report(status);
            try
            {
                await loop.control.PublishAsync(status, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Statuses are for watchers; the checkpoint, written with the data, is what resuming relies on.
                loop.log.Warning("Could not record the stream's status on the target: {Reason}", ex.Message);
            }
        }

        private async Task PublishQuietlyAsync(ReplicationStatus status)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await loop.control.PublishAsync(status, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                loop.log.Warning("Could not record the stream's final status on the target: {Reason}", ex.Message);
            }
        }
    }
}
