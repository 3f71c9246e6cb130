using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// Applies changes to a PostgreSQL or CockroachDB target, each target transaction with its checkpoint row in
/// <c>_molt.replication_checkpoints</c>. The statements are the dialect's (<see cref="PgWireApplySql"/>): PostgreSQL's
/// INSERT ... ON CONFLICT DO UPDATE or CockroachDB's UPSERT, and the batched delete both spell alike.
/// </summary>
internal sealed class PgWireChangeApplier : IChangeApplier, ITargetPosition
{
    /// <summary>
    /// Seconds an apply statement, commit or control query may take. Without a bound, a target that stops answering
    /// while its connection stays open (a stalled network, a hung middlebox) would hang the stream forever; timed out,
    /// the batch is applied again on a new connection like after any lost connection. A batch is at most
    /// <see cref="ApplyBatchLimits.MaxRows"/> rows in multi-row statements, far below a minute on a healthy target.
    /// </summary>
    public const int CommandTimeoutSeconds = 60;

    private readonly NpgsqlDataSource target;
    private readonly PgWireApplySql sql;
    private readonly ApplyBatchLimits limits;
    private readonly ReplicationStateStore state;
    private IReadOnlyList<TablePlan>? readFor;
    private bool stateCreated;
    private IReadOnlyDictionary<TableName, string> offSetPath = new Dictionary<TableName, string>();

    private PgWireChangeApplier(NpgsqlDataSource target, PgWireApplySql sql, ApplyBatchLimits limits)
    {
        this.target = target;
        this.sql = sql;
        this.limits = limits;
        state = new ReplicationStateStore(target);
    }

    /// <summary>
    /// Writes nothing: the state tables are created where they are missing with the first transaction, so a run refused
    /// before it applies anything leaves the target as it was. <paramref name="target"/> stays the caller's.
    /// </summary>
    public static PgWireChangeApplier Open(NpgsqlDataSource target, PgWireApplySql sql, ApplyBatchLimits limits) => new(target, sql, limits);

    public async Task<ReplicationCheckpoint?> ReadCheckpointAsync(string fetchId, CancellationToken cancellationToken)
    {
        try
        {
            return await state.ReadCheckpointAsync(fetchId, cancellationToken).ConfigureAwait(false) is { } row ? ToCheckpoint(row) : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not MoltException)
        {
            throw ApplyErrors.Classify(ex, "reading the checkpoint", null);
        }
    }

    public async Task<IApplyTransaction> BeginAsync(IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken)
    {
        NpgsqlConnection? connection = null;
        try
        {
            if (!stateCreated)
            {
                await state.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
                stateCreated = true;
            }

            connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            if (!ReferenceEquals(readFor, plans))
            {
                // Once per stream (the loop passes the same plans to every batch): constraints are not expected to change under it.
                offSetPath = await SetSafeTables.ReadAsync(connection, transaction, plans, cancellationToken).ConfigureAwait(false);
                readFor = plans;
            }

            return new PgWireApplyTransaction(connection, transaction, sql, limits, plans, offSetPath);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            throw ApplyErrors.Classify(ex, "opening a target transaction", null);
        }
    }

    public async Task<SourcePosition> ReadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql.TargetPositionQuery, connection);
        return sql.ParseTargetPosition((string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    internal static ReplicationCheckpoint ToCheckpoint(CheckpointRow row) =>
        new(row.FetchId, SourcePosition.Parse(row.Notation, row.Position), row.SourceCommittedAt)
        {
            Transactions = row.Transactions,
            Inserts = row.Inserts,
            Updates = row.Updates,
            Deletes = row.Deletes,
        };
}
