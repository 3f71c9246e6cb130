using Molt.Engine.Load;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Prometheus;

namespace Molt.Engine.Metrics;

/// <summary>
/// One run's Prometheus metrics, fed from what the run reports anyway: the load's table progress and results, and the
/// stream's statuses. Every metric carries the run's <c>fetch_id</c>; tables are labelled by their source name. Nothing
/// from an address (host, user, password) is ever a label or a value. The metrics live in a registry of the run's own, so
/// two runs in one process never share a counter.
/// </summary>
internal sealed class MoltMetrics
{
    private static readonly ReplicationState[] States = Enum.GetValues<ReplicationState>();

    private readonly Counter loadRows;
    private readonly Counter loadBytes;
    private readonly Counter tablesSucceeded;
    private readonly Counter tablesFailed;
    private readonly Counter transactions;
    private readonly Counter changes;
    private readonly Gauge lagBytes;
    private readonly Gauge lagSeconds;
    private readonly Gauge lastCommit;
    private readonly Gauge state;
    private readonly Counter retries;
    private readonly Counter errors;
    private readonly object gate = new();
    private long retriesSeen;

    public MoltMetrics(CollectorRegistry registry, string fetchId)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry).WithLabels(new Dictionary<string, string> { ["fetch_id"] = fetchId });
        // Gauges with no value yet stay out of the scrape, so a lag of 0 always means caught up, never "not known yet".
        var unsetUntilKnown = new GaugeConfiguration { SuppressInitialValue = true };
        loadRows = factory.CreateCounter("molt_load_rows_total", "Rows loaded into the target table (a resumed run counts the rows earlier attempts loaded).", ["table"]);
        loadBytes = factory.CreateCounter("molt_load_bytes_total", "Bytes of row data loaded into the target table.", ["table"]);
        tablesSucceeded = factory.CreateCounter("molt_load_tables_succeeded_total", "Tables loaded completely.");
        tablesFailed = factory.CreateCounter("molt_load_tables_failed_total", "Tables whose load failed.");
        transactions = factory.CreateCounter("molt_replication_transactions_total", "Source transactions applied to the target since the stream began (over every resume).");
        changes = factory.CreateCounter("molt_replication_changes_total", "Row changes applied to the target since the stream began, by kind.", ["kind"]);
        lagBytes = factory.CreateGauge("molt_replication_lag_bytes", "How far the source's log end is ahead of the last applied transaction, in bytes.", unsetUntilKnown);
        lagSeconds = factory.CreateGauge("molt_replication_lag_seconds", "How long ago the oldest source transaction not yet applied committed; 0 when caught up.", unsetUntilKnown);
        lastCommit = factory.CreateGauge("molt_replication_last_commit_timestamp_seconds", "Source commit time of the last applied transaction, in seconds since the Unix epoch.", unsetUntilKnown);
        state = factory.CreateGauge("molt_replication_state", "The stream's state: 1 for the state it is in, 0 for the others.", ["state"]);
        retries = factory.CreateCounter("molt_replication_retries_total", "Retries in this run: a lost source stream started again, a target transaction the target aborted applied again.");
        errors = factory.CreateCounter("molt_errors_total", "Errors this run met: tables whose load failed, and every failure the stream retried after.");
        foreach (var kind in Kinds)
        {
            changes.WithLabels(kind).IncTo(0);
        }
    }

    private static IEnumerable<string> Kinds => ["insert", "update", "delete"];

    /// <summary>The load's callbacks with these metrics fed first; <paramref name="inner"/>'s run as before.</summary>
    public BulkLoadCallbacks Observe(BulkLoadCallbacks inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        return inner with
        {
            Progress = progress =>
            {
                Loaded(progress.Table, progress.Rows, progress.Bytes);
                inner.Progress?.Invoke(progress);
            },
            TableFinished = result =>
            {
                Finished(result);
                inner.TableFinished?.Invoke(result);
            },
        };
    }

    /// <summary>The stream's status reports with these metrics fed first, then passed on to <paramref name="inner"/>.</summary>
    public IProgress<ReplicationStatus> Observe(IProgress<ReplicationStatus>? inner) => new StatusObserver(this, inner);

    private void Loaded(TableName table, long rows, long bytes)
    {
        // Shards report concurrently and out of order: the counters only ever move up to the largest total seen.
        loadRows.WithLabels(table.ToString()).IncTo(rows);
        loadBytes.WithLabels(table.ToString()).IncTo(bytes);
    }

    private void Finished(TableLoadResult result)
    {
        Loaded(result.Table, result.Rows, result.Bytes);
        if (result.Status == TableLoadStatus.Succeeded)
        {
            tablesSucceeded.Inc();
        }
        else if (result.Status == TableLoadStatus.Failed)
        {
            tablesFailed.Inc();
            errors.Inc();
        }
    }

    private void Reported(ReplicationStatus status)
    {
        transactions.IncTo(status.Transactions);
        changes.WithLabels("insert").IncTo(status.Inserts);
        changes.WithLabels("update").IncTo(status.Updates);
        changes.WithLabels("delete").IncTo(status.Deletes);
        if (status.LagBytes is { } bytes)
        {
            lagBytes.Set(bytes);
        }

        if (status.LagSeconds is { } seconds)
        {
            lagSeconds.Set(seconds);
        }

        if (status.LastCommitAt is { } commit)
        {
            lastCommit.Set(commit.ToUnixTimeMilliseconds() / 1000.0);
        }

        foreach (var each in States)
        {
            state.WithLabels(each.ToString()).Set(each == status.State ? 1 : 0);
        }

        lock (gate)
        {
            // A status carries the run's total; each retry is also an error met, counted once.
            var added = status.Retries - retriesSeen;
            if (added > 0)
            {
                retriesSeen = status.Retries;
                retries.Inc(added);
                errors.Inc(added);
            }
        }
    }

    private sealed class StatusObserver(MoltMetrics metrics, IProgress<ReplicationStatus>? inner) : IProgress<ReplicationStatus>
    {
        public void Report(ReplicationStatus value)
        {
            metrics.Reported(value);
            inner?.Report(value);
        }
    }
}
