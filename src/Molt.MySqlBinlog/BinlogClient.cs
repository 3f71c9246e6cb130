using System.Globalization;
using System.Runtime.CompilerServices;
using Molt.MySqlBinlog.Events;
using Molt.MySqlBinlog.Protocol;
using Molt.MySqlBinlog.Replication;

namespace Molt.MySqlBinlog;

/// <summary>
/// Streams a MySQL or MariaDB binlog as a replica would: connects, registers with a unique server id, asks for the
/// binlog from a GTID position or a file position, and yields decoded events with the position after each.
/// </summary>
public sealed class BinlogClient : IAsyncDisposable
{
    private const int MasterFatalErrorReadingBinlog = 1236;

    private readonly BinlogClientOptions options;
    private ProtocolConnection? connection;

    public BinlogClient(BinlogClientOptions options)
    {
        if (options.HeartbeatPeriod <= TimeSpan.Zero || options.EffectiveDeadConnectionTimeout <= options.HeartbeatPeriod)
        {
            throw new ArgumentException(
                $"The heartbeat period ({options.HeartbeatPeriod}) must be positive and shorter than the dead-connection timeout ({options.EffectiveDeadConnectionTimeout}): " +
                "an idle but healthy stream would otherwise be taken for a dead one.", nameof(options));
        }

        this.options = options;
    }

    /// <summary>The server id registered with, once streaming.</summary>
    public uint ServerId { get; private set; }

    /// <summary>The source's id for this connection (what KILL takes), once connected.</summary>
    public uint? ConnectionId => connection?.ConnectionId;

    public bool? IsMariaDb => connection?.IsMariaDb;

    /// <summary>The position after the last event yielded.</summary>
    public BinlogStreamPosition? Position { get; private set; }

    public async IAsyncEnumerable<BinlogEvent> StreamAsync(BinlogStart start, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (connection is not null)
        {
            throw new InvalidOperationException("A BinlogClient streams once; create another to stream again.");
        }

        var (source, decoder, transactions, retention) = await ConnectWithinTimeoutAsync(start, ct).ConfigureAwait(false);
        while (true)
        {
            var packet = await ReadWithinTimeoutAsync(source, ct).ConfigureAwait(false);
            if (ServerPackets.IsError(packet))
            {
                throw StreamError(ServerPackets.ParseError(packet), start, retention);
            }

            if (ServerPackets.IsEof(packet))
            {
                if (options.StopAtEnd)
                {
                    yield break;
                }

                throw new BinlogException(BinlogErrorIds.StreamEnded, "The source ended the binlog stream.");
            }

            if (packet[0] != ServerPackets.Ok)
            {
                throw new BinlogException(BinlogErrorIds.ProtocolViolation, $"A binlog packet starts with 0x{packet[0]:X2} instead of the OK marker.");
            }

            foreach (var e in decoder.Decode(packet.AsSpan(1)))
            {
                e.Position = Position = transactions.Observe(e);
                yield return e;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<EventDecoder> PrepareAsync(ProtocolConnection source, BinlogStart start, CancellationToken ct)
    {
        var checksum = (await source.QueryAsync("SELECT @@global.binlog_checksum", ct).ConfigureAwait(false)).Scalar;
        ServerId = options.ServerId ?? await ServerIdPicker.PickAsync(source, ct).ConfigureAwait(false);
        var heartbeat = ((long)options.HeartbeatPeriod.TotalMilliseconds * 1_000_000).ToString(CultureInfo.InvariantCulture);
        // The client is checksum-aware: events keep the checksum they were written with, and every one is verified.
        await source.ExecuteAsync("SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum", ct).ConfigureAwait(false);
        await source.ExecuteAsync($"SET @master_heartbeat_period = {heartbeat}, @source_heartbeat_period = {heartbeat}", ct).ConfigureAwait(false);
        if (source.IsMariaDb)
        {
            // Capability 4: the client understands GTID events (and GTID_LIST, BINLOG_CHECKPOINT).
            await source.ExecuteAsync("SET @mariadb_slave_capability = 4", ct).ConfigureAwait(false);
            if (start.MariaDbGtidPosition is { } position)
            {
                var validated = string.Join(",", position.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(g => MariaDbGtid.Parse(g).ToString()));
                await source.ExecuteAsync($"SET @slave_connect_state = '{validated}', @slave_gtid_strict_mode = 1, @slave_gtid_ignore_duplicates = 0", ct).ConfigureAwait(false);
            }
        }
        else if (start.MariaDbGtidPosition is not null)
        {
            throw new BinlogException(BinlogErrorIds.InvalidGtid, "A MariaDB GTID position was given but the source is MySQL.", "Start from a MySQL GTID set or a file position.");
        }

        if (source.IsMariaDb && start.MySqlGtidSet is not null)
        {
            throw new BinlogException(BinlogErrorIds.InvalidGtid, "A MySQL GTID set was given but the source is MariaDB.", "Start from a MariaDB GTID position or a file position.");
        }

        await source.SendCommandAsync(DumpCommands.RegisterReplica(ServerId, options.ReplicaHostName, options.Connection.User, 0), ct).ConfigureAwait(false);
        ServerPackets.ExpectOk(await source.Channel.ReadPacketAsync(ct).ConfigureAwait(false), $"register as replica with server id {ServerId}");
        var algorithm = string.Equals(checksum, "CRC32", StringComparison.OrdinalIgnoreCase) ? ChecksumAlgorithm.Crc32 : ChecksumAlgorithm.None;
        return new EventDecoder(algorithm, options.SignednessResolver);
    }

    private ReadOnlyMemory<byte> DumpCommand(ProtocolConnection source, BinlogStart start)
    {
        var flags = (ushort)((options.StopAtEnd ? DumpCommands.NonBlock : 0) | (source.IsMariaDb ? DumpCommands.SendAnnotateRows : 0));
        if (start.MySqlGtidSet is { } gtids)
        {
            return DumpCommands.BinlogDumpGtid(ServerId, MySqlGtidSet.Parse(gtids), flags);
        }

        // With @slave_connect_state set, MariaDB ignores the file and position.
        return DumpCommands.BinlogDump(ServerId, start.File ?? "", start.File is null ? 4 : start.Position, flags);
    }

    /// <summary>
    /// Connects, registers and asks for the dump, all within the connect timeout plus the dead-connection timeout: a server
    /// that accepts a connection and then answers nothing (one shutting down or still starting) must not hold the
    /// stream forever before the first heartbeat could tell.
    /// </summary>
    private async Task<(ProtocolConnection Source, EventDecoder Decoder, TransactionTracker Transactions, string Retention)> ConnectWithinTimeoutAsync(BinlogStart start, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var timeout = options.Connection.ConnectTimeout + options.EffectiveDeadConnectionTimeout;
        deadline.CancelAfter(timeout);
        try
        {
            connection = await ProtocolConnection.OpenAsync(options.Connection, deadline.Token).ConfigureAwait(false);
            var decoder = await PrepareAsync(connection, start, deadline.Token).ConfigureAwait(false);
            var transactions = new TransactionTracker(start, connection.IsMariaDb);
            var retention = await RetentionSettingAsync(connection, deadline.Token).ConfigureAwait(false);
            await connection.SendCommandAsync(DumpCommand(connection, start), deadline.Token).ConfigureAwait(false);
            return (connection, decoder, transactions, retention);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new BinlogException(BinlogErrorIds.ConnectionTimedOut,
                $"The source did not complete the connection and the dump request within {timeout.TotalSeconds:0.#} s: it accepted the connection but stopped answering.",
                "Reconnect and resume from the last position.");
        }
    }

    private async Task<byte[]> ReadWithinTimeoutAsync(ProtocolConnection source, CancellationToken ct)
    {
        using var silence = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var timeout = options.EffectiveDeadConnectionTimeout;
        silence.CancelAfter(timeout);
        try
        {
            return await source.Channel.ReadPacketAsync(silence.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new BinlogException(BinlogErrorIds.ConnectionTimedOut,
                $"Nothing came from the source for {timeout.TotalSeconds:0.#} s, though it was asked for a heartbeat every {options.HeartbeatPeriod.TotalSeconds:0.#} s: the connection is dead.",
                "Reconnect and resume from the last position.");
        }
    }

    private static async Task<string> RetentionSettingAsync(ProtocolConnection source, CancellationToken ct)
    {
        try
        {
            return $"binlog_expire_logs_seconds = {(await source.QueryAsync("SELECT @@global.binlog_expire_logs_seconds", ct).ConfigureAwait(false)).Scalar}";
        }
        catch (BinlogServerException)
        {
            return $"expire_logs_days = {(await source.QueryAsync("SELECT @@global.expire_logs_days", ct).ConfigureAwait(false)).Scalar}";
        }
    }

    private static BinlogException StreamError(BinlogServerException error, BinlogStart start, string retention)
    {
        if (error.ServerErrorCode != MasterFatalErrorReadingBinlog)
        {
            return error;
        }

        if (error.ServerMessage.Contains("max_allowed_packet", StringComparison.OrdinalIgnoreCase))
        {
            return new BinlogException(BinlogErrorIds.ServerError, $"The source cannot send an event larger than its max_allowed_packet: {error.ServerMessage}",
                "Raise max_allowed_packet (and slave_max_allowed_packet) on the source.", error);
        }

        return new BinlogException(BinlogErrorIds.PositionPurged,
            $"The source's binary logs no longer hold the start position ({start}): {error.ServerMessage}",
            $"The binlogs were purged (the source keeps them for {retention}) or never held it; raise the retention and load again to get a new start position.",
            error);
    }
}
