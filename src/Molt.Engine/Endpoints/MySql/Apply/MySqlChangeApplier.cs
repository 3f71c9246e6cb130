using System.Globalization;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using MySqlConnector;
using Serilog;

namespace Molt.Engine.Endpoints.MySql.Apply;

/// <summary>
/// Failback's applier into a MySQL or MariaDB original source: each batch is one InnoDB transaction with its checkpoint
/// row in <c>`_molt`.`replication_checkpoints`</c> (<see cref="MySqlCheckpointStore"/>), so a crash at any instant
/// loses and duplicates nothing. The values come back into the original columns' types (<see cref="MySqlFailbackValues"/>),
/// which it knows from the tables failback pairs (<see cref="UseOriginals"/>). Its own position (the original's GTIDs
/// and binlog coordinates) is what a stream stopping on it reports.
/// </summary>
internal sealed class MySqlChangeApplier : IChangeApplier, ITargetPosition
{
    /// <summary>Seconds a statement or commit may take before the batch is applied again on a new connection (a hung server or network).</summary>
    public const int CommandTimeoutSeconds = 60;

    private readonly EndpointAddress address;
    private readonly ApplyBatchLimits limits;
    private readonly ZeroDateHandling zeroDates;
    private readonly ILogger log;
    private IReadOnlyDictionary<TableName, TableModel> originals = new Dictionary<TableName, TableModel>();
    private bool checkpointsCreated;

    private MySqlChangeApplier(EndpointAddress address, ApplyBatchLimits limits, ZeroDateHandling zeroDates, ILogger log)
    {
        this.address = address;
        this.limits = limits;
        this.zeroDates = zeroDates;
        this.log = log;
    }

    public ApplyBatchLimits Limits => limits;

    /// <summary>
    /// Connects once, so a wrong address or password fails here, and writes nothing: the <c>_molt</c> database and its
    /// checkpoint table are created where they are missing before the first transaction, so a failback refused before it
    /// applies anything leaves the original as it was.
    /// </summary>
    /// <param name="zeroDates">What the migration's load made of zero dates, which failback turns back into them.</param>
    public static async Task<MySqlChangeApplier> OpenAsync(EndpointAddress address, ApplyBatchLimits limits, ZeroDateHandling zeroDates, ILogger log,
        CancellationToken cancellationToken)
    {
        var applier = new MySqlChangeApplier(address, limits, zeroDates, log);
        await using var connection = await MySqlConnections.OpenAsync(address, CommandTimeoutSeconds, cancellationToken).ConfigureAwait(false);
        return applier;
    }

    /// <summary>
    /// The original tables the failback plans write into, as read from the original's catalog when they were planned:
    /// their columns' types are what the target's values are converted back into.
    /// </summary>
    public void UseOriginals(IEnumerable<TableModel> tables) => originals = tables.ToDictionary(t => t.Name);

    public async Task<ReplicationCheckpoint?> ReadCheckpointAsync(string fetchId, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await MySqlCheckpointStore.ReadAsync(connection, fetchId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw MySqlApplyErrors.Classify(ex, "reading the checkpoint", null);
        }
    }

    public async Task<IApplyTransaction> BeginAsync(IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken)
    {
        MySqlConnection? connection = null;
        try
        {
            connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (!checkpointsCreated)
            {
                // Before the transaction: DDL commits implicitly in MySQL.
                await MySqlCheckpointStore.EnsureSchemaAsync(connection, cancellationToken).ConfigureAwait(false);
                checkpointsCreated = true;
            }

            await using (var settings = new MySqlCommand(MySqlApplySql.SessionSettings, connection))
            {
                await settings.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            return new MySqlApplyTransaction(connection, transaction, limits, plans, originals, zeroDates, log);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            throw MySqlApplyErrors.Classify(ex, "opening a transaction on the original source", null);
        }
    }

    /// <summary>The original's GTID state and binlog coordinates now, in the notation its binlog stream reads.</summary>
    public async Task<SourcePosition> ReadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var mariaDb = MySqlConnections.IsMariaDb(connection.ServerVersion);
        BinlogCoordinates? coordinates = null;
        try
        {
            await using var status = new MySqlCommand("SHOW MASTER STATUS", connection);
            await using var reader = await status.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !reader.IsDBNull(0))
            {
                coordinates = new BinlogCoordinates(reader.GetString(0), Convert.ToUInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
            }
        }
        catch (MySqlException ex) when ((int)ex.ErrorCode is 1064 or 1227)
        {
            // MySQL 8.4 spells it SHOW BINARY LOG STATUS, and a user without REPLICATION CLIENT cannot read it: the GTIDs suffice.
        }

        await using var command = new MySqlCommand(mariaDb ? "SELECT @@global.gtid_binlog_pos" : "SELECT @@global.gtid_executed", connection);
        var gtids = Convert.ToString(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) ?? "";
        return mariaDb
            ? MariaDbGtidList.Parse(gtids) with { Coordinates = coordinates }
            : new MySqlGtidPosition(string.IsNullOrWhiteSpace(gtids) ? null : GtidSet.Parse(gtids), coordinates ?? new BinlogCoordinates("", 0));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// A connection whose failure to open stays the driver's error, which <see cref="MySqlApplyErrors"/> classifies: a
    /// server restarting while failback streams is waited for like a lost connection.
    /// </summary>
    private async Task<MySqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var builder = MySqlConnections.Builder(address);
        builder.DefaultCommandTimeout = CommandTimeoutSeconds;
        // An UPDATE reports the rows it found, also those already holding its values: a row written by key is inserted only when none has the key.
        builder.UseAffectedRows = false;
        var connection = new MySqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
