using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Npgsql;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>
/// The target position of a forward stream into CockroachDB, and at its cutover where failback's changefeed starts: the
/// cluster's HLC, "the logical time of the current transaction as a CockroachDB HLC in decimal form"
/// (https://www.cockroachlabs.com/docs/stable/functions-and-operators, cluster_logical_timestamp), the form a changefeed's
/// <c>cursor</c> takes ("Emit any changes after the given timestamp": https://www.cockroachlabs.com/docs/stable/create-changefeed#cursor).
/// No slot is needed: a changefeed reads the row versions since its cursor for as long as gc.ttlseconds keeps them.
/// <para>
/// Read in a transaction that reads the stream's checkpoint row, which every forward batch writes with its changes: a
/// transaction that reads a key is ordered after every committed write of it (CockroachDB guarantees no stale reads, and
/// a write within the clock uncertainty restarts the read above it), so Molt's last batch lies at or below the anchor and
/// is not sent back. A bare cluster_logical_timestamp() on another node could lie below it by up to the clock offset,
/// since unrelated keys are not ordered so (https://www.cockroachlabs.com/docs/stable/architecture/transaction-layer).
/// </para>
/// </summary>
internal sealed class CockroachFailbackAnchor(NpgsqlDataSource target, ITargetPosition position) : ITargetPosition
{
    /// <summary>The HLC now, read with the stream's checkpoint row (<c>$1</c>: the FetchId; no row is fine).</summary>
    internal const string AnchorSql =
        $"SELECT cluster_logical_timestamp()::STRING FROM (SELECT count(*) FROM \"{LoadStateStore.Schema}\".\"replication_checkpoints\" WHERE fetch_id = $1) AS applied";

    public Task<SourcePosition> ReadAsync(CancellationToken cancellationToken) => position.ReadAsync(cancellationToken);

    public async Task<TargetAnchor> AnchorAsync(string fetchId, IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(AnchorSql, connection) { Parameters = { new NpgsqlParameter { Value = fetchId } } };
        return new TargetAnchor(CockroachHlc.Parse((string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!), null);
    }
}
