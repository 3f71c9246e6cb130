using System.Globalization;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.MySqlBinlog;
using MySqlConnector;

namespace Molt.Engine.Endpoints.MySql.Replication;

/// <summary>
/// A MySQL or MariaDB source's committed changes, read from its binlog as a replica reads it (Molt.MySqlBinlog). Nothing
/// is created on the source: the load's snapshot recorded the GTID position (and binlog coordinates) the stream starts
/// after, and the checkpoint in the target is the only record of how far it got. Values are converted for the plan's
/// target columns by the one MySQL value table, exactly as the load converted them.
/// </summary>
internal sealed class MySqlChangeSource(EndpointAddress address, ZeroDateHandling zeroDates) : IChangeSource
{
    /// <summary>How often an idle source sends a heartbeat: how soon an idle stream learns it is caught up.</summary>
    private static readonly TimeSpan HeartbeatPeriod = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The stream's own queries (settings, the current end, the catalog after a DDL statement) are small: a server that
    /// accepted the connection and stopped answering (shutting down, starting up) must fail them, so the loop retries,
    /// rather than hold the stream forever.
    /// </summary>
    private const int ControlCommandTimeoutSeconds = 30;

    /// <summary>
    /// The loop waits for the current end (for a status, or a stop's position) and reads no binlog meanwhile: a source
    /// gone silent must not hold it longer than this, or the binlog's dead-connection timeout could not notice the silence
    /// until the network came back.
    /// </summary>
    private static readonly TimeSpan EndReadTimeout = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim endLock = new(1, 1);
    private MySqlConnection? endConnection;

    /// <summary>
    /// Checks the binlog settings the plans need, then prepares the binlog client; it connects and asks for the binlog
    /// when the stream is first enumerated (a purged position fails there, before any change).
    /// </summary>
    /// <exception cref="MoltException">The binlog is off or not row-based, or a table without a primary key cannot be matched under the row image.</exception>
    /// <exception cref="TransientSourceException">The source could not be reached.</exception>
    public async Task<IChangeStream> StartAsync(SourcePosition from, IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken)
    {
        var start = MySqlPositions.StartAfter(from);
        bool mariaDb;
        await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            mariaDb = MySqlConnections.IsMariaDb(connection.ServerVersion);
            try
            {
                await RequireBinlogSettingsAsync(connection, plans, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsConnectionLoss(ex))
            {
                // A server that went away (or stopped answering) between connecting and the query: the loop starts again.
                throw new TransientSourceException($"Reading the binlog settings of {address.Display} failed: {ex.Message}", ex);
            }
        }

        var bySource = plans.ToDictionary(p => p.Source.Name);
        var client = new BinlogClient(new BinlogClientOptions
        {
            Connection = ConnectionOptions(),
            HeartbeatPeriod = HeartbeatPeriod,
            SignednessResolver = map => bySource.TryGetValue(new TableName(map.Schema, map.Table), out var plan) && plan.Source.Columns.Count == map.Columns.Count
                ? plan.Source.Columns.OrderBy(c => c.Ordinal).Select(c => c.Type.IsUnsigned).ToList()
                : null,
        });
        var decoder = new BinlogChangeDecoder(plans, zeroDates, mariaDb, ReadCatalogTableAsync);
        return new MySqlChangeStream(client, start, decoder, mariaDb, address.Display);
    }

    /// <summary>
    /// Where a change committed now would be: the GTID state the binlog holds (MariaDB @@gtid_binlog_pos, which is what a
    /// binlog reader's position is made of, where @@gtid_current_pos would add transactions only replicated into this
    /// server; MySQL @@gtid_executed) with the binlog file and offset.
    /// </summary>
    public async Task<SourcePosition> ReadCurrentEndAsync(CancellationToken cancellationToken)
    {
        await endLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(EndReadTimeout);
        try
        {
            if (endConnection is { State: not System.Data.ConnectionState.Open })
            {
                // Broken by a lost connection the last query did not see fail: a new one is opened.
                await CloseEndConnectionAsync().ConfigureAwait(false);
            }

            endConnection ??= await OpenEndConnectionAsync(bounded.Token).ConfigureAwait(false);
            var mariaDb = MySqlConnections.IsMariaDb(endConnection.ServerVersion);
            var coordinates = await ReadCoordinatesAsync(endConnection, bounded.Token).ConfigureAwait(false);
            await using var command = new MySqlCommand(mariaDb ? "SELECT @@global.gtid_binlog_pos" : "SELECT @@global.gtid_executed", endConnection);
            var gtids = Convert.ToString(await command.ExecuteScalarAsync(bounded.Token).ConfigureAwait(false), CultureInfo.InvariantCulture) ?? "";
            return MySqlPositions.Of(new BinlogStreamPosition(coordinates?.File ?? "", coordinates?.Position ?? 0, gtids, null), mariaDb);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            await CloseEndConnectionAsync().ConfigureAwait(false);
            throw new TransientSourceException(
                $"Reading the current binlog position of {address.Display} failed: the source did not answer within {EndReadTimeout.TotalSeconds:0} s.", ex);
        }
        catch (Exception ex) when (IsConnectionLoss(ex))
        {
            // It is opened again on the next call.
            await CloseEndConnectionAsync().ConfigureAwait(false);
            throw new TransientSourceException($"Reading the current binlog position of {address.Display} failed: {ex.Message}", ex);
        }
        finally
        {
            endLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (endConnection is not null)
        {
            await endConnection.DisposeAsync().ConfigureAwait(false);
        }

        endLock.Dispose();
    }

    /// <summary>The binlog client's connection: the address's host, port and credential (never logged), and its TLS mode.</summary>
    private BinlogConnectionOptions ConnectionOptions()
    {
        var ssl = address.Options.FirstOrDefault(o => o.Key.ToLowerInvariant() is "sslmode" or "ssl-mode" or "tls").Value?.ToLowerInvariant();
        return new BinlogConnectionOptions
        {
            Host = address.Host,
            Port = address.Port,
            User = address.User ?? "",
            Password = address.Password ?? "",
            TlsMode = ssl switch
            {
                "disable" or "disabled" or "none" or "false" => BinlogTlsMode.Disabled,
                "require" or "required" or "true" or "verify-ca" or "verifyca" or "verify-full" or "verifyfull" or "verify_identity" => BinlogTlsMode.Required,
                _ => BinlogTlsMode.Preferred,
            },
            // caching_sha2_password over plain TCP, as the load's connections allow it.
            AllowPublicKeyRetrieval = true,
        };
    }

    private async Task CloseEndConnectionAsync()
    {
        if (endConnection is not null)
        {
            await endConnection.DisposeAsync().ConfigureAwait(false);
            endConnection = null;
        }
    }

    /// <summary>
    /// The current end's connection, whose connect and commands give up within <see cref="EndReadTimeout"/>: MySqlConnector
    /// waits out its connect timeout on a server that accepted the connection and stopped answering, whatever the token says.
    /// </summary>
    private async Task<MySqlConnection> OpenEndConnectionAsync(CancellationToken cancellationToken)
    {
        var builder = MySqlConnections.Builder(address);
        builder.ConnectionTimeout = (uint)EndReadTimeout.TotalSeconds;
        builder.DefaultCommandTimeout = (uint)EndReadTimeout.TotalSeconds;
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

    private async Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await MySqlConnections.OpenAsync(address, ControlCommandTimeoutSeconds, cancellationToken).ConfigureAwait(false);
        }
        catch (MoltException ex) when (ex.Kind == MoltErrorKind.ConnectionFailed)
        {
            throw new TransientSourceException(ex.Message, ex);
        }
    }

    /// <summary>The table as the source's catalog reads it now, for a DDL statement met in the binlog; null when it is gone.</summary>
    private async Task<TableModel?> ReadCatalogTableAsync(TableName table, CancellationToken cancellationToken)
    {
        var builder = MySqlConnections.Builder(address);
        builder.DefaultCommandTimeout = ControlCommandTimeoutSeconds;
        var catalog = new MySqlCatalogReader(builder.ConnectionString, address.Database);
        try
        {
            var tables = await catalog.ReadTablesAsync(new TableFilter([table.Schema], [table.Name]), cancellationToken).ConfigureAwait(false);
            return tables.FirstOrDefault(t => t.Name == table);
        }
        catch (Exception ex) when (IsConnectionLoss(ex))
        {
            // The DDL is read again after the restart from the checkpoint, and checked again then.
            throw new TransientSourceException($"Reading table {table} from the catalog of {address.Display} failed: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// How a query on a lost connection fails: a server error, or, as MySqlConnector passes a reset socket's error on as it
    /// is, an I/O or socket error; a connection it saw break says "not open" ever after.
    /// </summary>
    private static bool IsConnectionLoss(Exception exception) =>
        exception is MySqlException or IOException or System.Net.Sockets.SocketException or InvalidOperationException;

    /// <summary>
    /// Row-based binlogs are the only ones whose changes can be replicated; a table without a primary key is matched by
    /// every column, which only a FULL row image carries.
    /// </summary>
    private static async Task RequireBinlogSettingsAsync(MySqlConnection connection, IReadOnlyList<TablePlan> plans, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand("SELECT @@global.log_bin, @@global.binlog_format, @@global.binlog_row_image", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var (logBin, format, image) = (Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture), reader.GetString(1), reader.GetString(2));
        if (logBin is not ("1" or "ON"))
        {
            throw new MoltException(MoltErrorKind.InvalidState, "BinaryLogDisabled", $"The source {connection.DataSource} has no binary log (log_bin is off), so no change can be read.",
                "Enable log_bin with binlog_format=ROW and binlog_row_image=FULL on the source; Test-MoltConnection -For Replication checks it.");
        }

        if (!format.Equals("ROW", StringComparison.OrdinalIgnoreCase))
        {
            throw new MoltException(MoltErrorKind.InvalidState, "BinlogFormatNotRow",
                $"The source logs changes with binlog_format = {format}: a statement-logged change carries no rows, so it cannot be replicated.",
                "SET GLOBAL binlog_format = 'ROW' (and in the server's configuration), then resume the replication.");
        }

        if (!image.Equals("FULL", StringComparison.OrdinalIgnoreCase) && plans.FirstOrDefault(p => !p.Source.HasPrimaryKey) is { } keyless)
        {
            throw new MoltException(MoltErrorKind.InvalidState, "KeylessTableNeedsFullRowImage",
                $"Table {keyless.Source.Name} has no primary key, so its rows can only be matched by every column, and the source logs binlog_row_image = {image}, which leaves columns out.",
                $"SET GLOBAL binlog_row_image = 'FULL' on the source (and in its configuration), or give {keyless.Source.Name} a primary key and load it again.")
            {
                Target = keyless.Source.Name.ToString(),
            };
        }
    }

    /// <summary>SHOW MASTER STATUS, which MySQL 8.4 renamed SHOW BINARY LOG STATUS.</summary>
    private static async Task<BinlogCoordinates?> ReadCoordinatesAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        foreach (var sql in new[] { "SHOW MASTER STATUS", "SHOW BINARY LOG STATUS" })
        {
            try
            {
                await using var command = new MySqlCommand(sql, connection);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !reader.IsDBNull(0)
                    ? new BinlogCoordinates(reader.GetString(0), Convert.ToUInt64(reader.GetValue(1), CultureInfo.InvariantCulture))
                    : null;
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.ParseError)
            {
                // The other spelling.
            }
        }

        return null;
    }
}
