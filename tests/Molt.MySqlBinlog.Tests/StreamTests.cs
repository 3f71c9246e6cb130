using System.Collections.Concurrent;
using System.Security.Cryptography;
using Molt.MySqlBinlog.Events;
using MySqlConnector;

namespace Molt.MySqlBinlog.Tests;

/// <summary>Streaming behaviour on a real MariaDB: transactions, positions, big rows, heartbeats, rotation, failures.</summary>
[Collection(BinlogServerCollection.Name)]
public sealed class StreamTests(BinlogServerFixture fixture)
{

    [Fact]
    public async Task A_multi_statement_transaction_arrives_between_its_gtid_and_its_xid_and_joins_the_gtid_state_only_at_commit()
    {
        await Live.ExecuteAsync(fixture.Server, "shop", "CREATE TABLE `trx` (`id` INT PRIMARY KEY, `v` VARCHAR(10))");
        var start = await Live.GtidPositionAsync(fixture.Server);
        await Live.ExecuteAsync(fixture.Server, "shop", "BEGIN", "INSERT INTO `trx` VALUES (1, 'a'), (2, 'b')",
            "UPDATE `trx` SET `v` = 'c' WHERE `id` = 1", "DELETE FROM `trx` WHERE `id` = 2", "COMMIT");

        var events = (await Live.ReadToEndAsync(fixture.Server, BinlogStart.AtMariaDbGtid(start)))
            .SkipWhile(e => e is not MariaDbGtidEvent).ToList();

        var gtid = Assert.IsType<MariaDbGtidEvent>(events[0]);
        Assert.False(gtid.IsStandalone);
        // MariaDB's GTID event stands in for BEGIN.
        Assert.DoesNotContain(events.OfType<QueryEvent>(), q => q.IsBegin);
        Assert.IsType<XidEvent>(events[^1]);
        Assert.Equal([RowsEventKind.Write, RowsEventKind.Update, RowsEventKind.Delete], events.OfType<RowsEvent>().Select(r => r.Kind));
        Assert.Contains(events.OfType<AnnotateRowsEvent>(), a => a.Query.StartsWith("UPDATE `trx`", StringComparison.Ordinal));
        Assert.All(events[..^1], e => Assert.Equal(start, e.Position!.GtidState));
        Assert.All(events[..^1], e => Assert.Equal(gtid.Gtid.ToString(), e.Position!.CurrentTransactionGtid));
        Assert.Equal(gtid.Gtid.ToString(), events[^1].Position!.GtidState);
        Assert.Null(events[^1].Position!.CurrentTransactionGtid);
    }

    [Fact]
    public async Task A_stream_started_at_a_gtid_in_the_middle_sees_every_later_change_and_no_earlier_one()
    {
        await Live.ExecuteAsync(fixture.Server, "shop", "CREATE TABLE `middle` (`id` INT PRIMARY KEY)");
        string? middle = null;
        for (var id = 1; id <= 5; id++)
        {
            await Live.ExecuteAsync(fixture.Server, "shop", $"INSERT INTO `middle` VALUES ({id})");
            if (id == 3)
            {
                middle = await Live.GtidPositionAsync(fixture.Server);
            }
        }

        var events = await Live.ReadToEndAsync(fixture.Server, BinlogStart.AtMariaDbGtid(middle!));

        var ids = events.OfType<RowsEvent>().Where(r => r.Table.Table == "middle").SelectMany(r => r.Rows).Select(r => r.After![0]).ToList();
        Assert.Equal([4L, 5L], ids);
        Assert.Equal(await Live.GtidPositionAsync(fixture.Server), events[^1].Position!.GtidState);
    }

    [Fact]
    public async Task A_row_larger_than_16_MB_is_reassembled_from_its_packets()
    {
        await Live.ExecuteAsync(fixture.Server, "shop", "CREATE TABLE `big` (`id` INT PRIMARY KEY, `payload` LONGBLOB)");
        var start = await Live.GtidPositionAsync(fixture.Server);
        var payload = RandomNumberGenerator.GetBytes(20 * 1024 * 1024);
        await using (var connection = new MySqlConnection(fixture.Server.ConnectionString("shop")))
        {
            await connection.OpenAsync();
            await using var command = new MySqlCommand("INSERT INTO `big` VALUES (1, @payload)", connection);
            command.Parameters.AddWithValue("@payload", payload);
            await command.ExecuteNonQueryAsync();
        }

        var events = await Live.ReadToEndAsync(fixture.Server, BinlogStart.AtMariaDbGtid(start));

        var row = events.OfType<RowsEvent>().Single().Rows.Single().After!;
        Assert.True(((byte[])row[1]!).AsSpan().SequenceEqual(payload));
        Assert.True(events.OfType<RowsEvent>().Single().Header.EventSize > 16 * 1024 * 1024);
    }

    [Fact]
    public async Task A_transaction_open_longer_than_the_heartbeat_period_is_received_after_heartbeats_without_a_timeout()
    {
        await Live.ExecuteAsync(fixture.Server, "shop", "CREATE TABLE `slow` (`id` INT PRIMARY KEY)");
        var start = await Live.GtidPositionAsync(fixture.Server);
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var seen = new ConcurrentQueue<BinlogEvent>();
        await using var client = new BinlogClient(Live.Options(fixture.Server, stopAtEnd: false, heartbeat: TimeSpan.FromSeconds(1), deadAfter: TimeSpan.FromSeconds(3)));
        var streaming = Task.Run(async () =>
        {
            await foreach (var e in client.StreamAsync(BinlogStart.AtMariaDbGtid(start), stop.Token))
            {
                seen.Enqueue(e);
                if (e is XidEvent)
                {
                    return;
                }
            }
        });

        await using (var connection = new MySqlConnection(fixture.Server.ConnectionString("shop")))
        {
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await new MySqlCommand("INSERT INTO `slow` VALUES (1)", connection, transaction).ExecuteNonQueryAsync();
            await Task.Delay(TimeSpan.FromSeconds(5));
            await new MySqlCommand("INSERT INTO `slow` VALUES (2)", connection, transaction).ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }

        await streaming;
        Assert.True(seen.OfType<HeartbeatEvent>().Count() >= 2, $"{seen.OfType<HeartbeatEvent>().Count()} heartbeats");
        Assert.Equal([1L, 2L], seen.OfType<RowsEvent>().SelectMany(r => r.Rows).Select(r => r.After![0]));
        Assert.All(seen.OfType<HeartbeatEvent>(), h => Assert.StartsWith("binlog.", h.LogFile));
    }

    [Fact]
    public async Task A_binlog_rotation_mid_stream_moves_the_position_to_the_new_file_and_loses_nothing()
    {
        await Live.ExecuteAsync(fixture.Server, "shop", "CREATE TABLE `rotated` (`id` INT PRIMARY KEY)");
        var start = await Live.GtidPositionAsync(fixture.Server);
        await Live.ExecuteAsync(fixture.Server, "shop", "INSERT INTO `rotated` VALUES (1)", "FLUSH BINARY LOGS", "INSERT INTO `rotated` VALUES (2)");
        var newFile = await CurrentFileAsync();

        var events = await Live.ReadToEndAsync(fixture.Server, BinlogStart.AtMariaDbGtid(start));

        Assert.Contains(events.OfType<RotateEvent>(), r => !r.Header.IsArtificial && r.NextFile == newFile);
        Assert.Equal([1L, 2L], events.OfType<RowsEvent>().SelectMany(r => r.Rows).Select(r => r.After![0]));
        Assert.Equal(newFile, events[^1].Position!.File);
        Assert.Equal(2, events.OfType<FormatDescriptionEvent>().Count());
    }

    [Fact]
    public async Task MariaDB_compressed_row_and_query_events_are_unwrapped()
    {
        await Live.ExecuteAsync(fixture.Server, "", "SET GLOBAL log_bin_compress = ON", "SET GLOBAL log_bin_compress_min_len = 10");
        try
        {
            var start = await Live.GtidPositionAsync(fixture.Server);
            var text = string.Concat(Enumerable.Repeat("compressible ", 200));
            await Live.ExecuteAsync(fixture.Server, "shop", "CREATE TABLE `squeezed` (`id` INT PRIMARY KEY, `t` TEXT) COMMENT 'a comment long enough to be compressed'",
                $"INSERT INTO `squeezed` VALUES (1, '{text}')", "UPDATE `squeezed` SET `t` = 'short' WHERE `id` = 1");

            var events = await Live.ReadToEndAsync(fixture.Server, BinlogStart.AtMariaDbGtid(start));

            var rows = events.OfType<RowsEvent>().ToList();
            Assert.Contains(rows, r => r.Header.Type == BinlogEventType.MariaDbWriteRowsCompressedV1);
            Assert.Equal(Canonical.Utf8(text), rows[0].Rows[0].After![1]);
            Assert.Equal(Canonical.Utf8("short"), rows[1].Rows[0].After![1]);
            Assert.Contains(events.OfType<QueryEvent>(), q => q.Header.Type == BinlogEventType.MariaDbQueryCompressed && q.Query.Contains("CREATE TABLE `squeezed`"));
        }
        finally
        {
            await Live.ExecuteAsync(fixture.Server, "", "SET GLOBAL log_bin_compress = OFF");
        }
    }

    [Fact]
    public async Task Killing_the_connection_mid_stream_ends_the_stream_with_an_error()
    {
        var start = await Live.GtidPositionAsync(fixture.Server);
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using var client = new BinlogClient(Live.Options(fixture.Server, stopAtEnd: false));
        var first = new TaskCompletionSource();
        var streaming = Task.Run(async () =>
        {
            await foreach (var _ in client.StreamAsync(BinlogStart.AtMariaDbGtid(start), stop.Token))
            {
                first.TrySetResult();
            }
        });
        await first.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await Live.ExecuteAsync(fixture.Server, "", $"KILL CONNECTION {client.ConnectionId}");

        var error = await Assert.ThrowsAsync<BinlogException>(() => streaming.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(error.ErrorId, new[] { BinlogErrorIds.ConnectionLost, BinlogErrorIds.ServerError });
    }

    [Fact]
    public async Task A_purged_position_fails_with_an_error_naming_the_position_and_the_retention_setting()
    {
        var firstFile = await fixture.Server.ScalarAsync<string>("", "SELECT SUBSTRING_INDEX(@@global.log_bin_basename, '/', -1)");
        var oldest = $"0-{await fixture.Server.ScalarAsync<long>("", "SELECT @@server_id")}-1";
        await Live.ExecuteAsync(fixture.Server, "shop", "CREATE TABLE IF NOT EXISTS `purge_me` (`id` INT PRIMARY KEY)", "FLUSH BINARY LOGS");
        var current = await CurrentFileAsync();
        await Live.ExecuteAsync(fixture.Server, "", $"PURGE BINARY LOGS TO '{current}'");
        var purgedFile = $"{firstFile}.000001";

        var byFile = await Assert.ThrowsAsync<BinlogException>(() => Live.ReadToEndAsync(fixture.Server, BinlogStart.AtFile(purgedFile, 4)));
        var byGtid = await Assert.ThrowsAsync<BinlogException>(() => Live.ReadToEndAsync(fixture.Server, BinlogStart.AtMariaDbGtid(oldest)));

        Assert.Equal(BinlogErrorIds.PositionPurged, byFile.ErrorId);
        Assert.Contains(purgedFile, byFile.Message);
        Assert.Contains("binlog_expire_logs_seconds", byFile.Message);
        Assert.Equal(1236, Assert.IsType<BinlogServerException>(byFile.InnerException).ServerErrorCode);
        Assert.Equal(BinlogErrorIds.PositionPurged, byGtid.ErrorId);
        Assert.Contains(oldest, byGtid.Message);
        Assert.Contains("binlog_expire_logs_seconds", byGtid.Message);
    }

    private async Task<string> CurrentFileAsync()
    {
        await using var connection = new MySqlConnection(fixture.Server.ConnectionString());
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SHOW MASTER STATUS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return reader.GetString(0);
    }

}

[Collection(BinlogServerCollection.Name)]
public sealed class DeadConnectionTests(BinlogServerFixture fixture)
{
    [Fact]
    public async Task A_connection_that_goes_silent_beyond_the_heartbeat_timeout_is_reported_dead()
    {
        await using var proxy = new FreezingProxy(fixture.Server.Host, fixture.Server.Port);
        var options = Live.Options(fixture.Server, stopAtEnd: false, heartbeat: TimeSpan.FromSeconds(1), deadAfter: TimeSpan.FromSeconds(3));
        await using var client = new BinlogClient(new BinlogClientOptions
        {
            Connection = new BinlogConnectionOptions { Host = "127.0.0.1", Port = proxy.Port, User = options.Connection.User, Password = options.Connection.Password },
            HeartbeatPeriod = options.HeartbeatPeriod, DeadConnectionTimeout = options.DeadConnectionTimeout,
        });
        var heartbeats = 0;
        var streaming = Task.Run(async () =>
        {
            await foreach (var e in client.StreamAsync(BinlogStart.AtMariaDbGtid(await Live.GtidPositionAsync(fixture.Server))))
            {
                if (e is Events.HeartbeatEvent && ++heartbeats == 2)
                {
                    proxy.Freeze();
                }
            }
        });

        var error = await Assert.ThrowsAsync<BinlogException>(() => streaming.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(BinlogErrorIds.ConnectionTimedOut, error.ErrorId);
        Assert.Equal(2, heartbeats);
    }

    [Fact]
    public async Task Cancelling_an_idle_stream_ends_it_promptly_with_cancellation()
    {
        using var cancel = new CancellationTokenSource();
        await using var client = new BinlogClient(Live.Options(fixture.Server, stopAtEnd: false));
        var started = DateTime.UtcNow;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var e in client.StreamAsync(BinlogStart.AtMariaDbGtid(await Live.GtidPositionAsync(fixture.Server)), cancel.Token))
            {
                if (e is Events.FormatDescriptionEvent)
                {
                    cancel.CancelAfter(TimeSpan.FromMilliseconds(200));
                }
            }
        });

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(4), "cancellation waited for a heartbeat");
    }

    [Fact]
    public async Task The_client_registers_with_a_high_server_id_that_the_source_lists_and_that_is_not_its_own()
    {
        var sourceId = await fixture.Server.ScalarAsync<long>("", "SELECT @@server_id");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var client = new BinlogClient(Live.Options(fixture.Server, stopAtEnd: false));
        await foreach (var _ in client.StreamAsync(BinlogStart.AtMariaDbGtid(await Live.GtidPositionAsync(fixture.Server)), stop.Token))
        {
            var dumping = await fixture.Server.ScalarAsync<long>("", $"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE `ID` = {client.ConnectionId} AND `COMMAND` LIKE 'Binlog Dump%'");
            Assert.Equal(1, dumping);
            break;
        }

        Assert.True(client.ServerId >= 0x8000_0000u);
        Assert.NotEqual(sourceId, client.ServerId);
        Assert.Equal("molt", await SlaveHostAsync(client.ServerId));
    }

    private async Task<string?> SlaveHostAsync(uint serverId)
    {
        await using var connection = new MySqlConnector.MySqlConnection(fixture.Server.ConnectionString());
        await connection.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand("SHOW SLAVE HOSTS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            if (Convert.ToUInt32(reader["Server_id"], System.Globalization.CultureInfo.InvariantCulture) == serverId)
            {
                return reader["Host"].ToString();
            }
        }

        return null;
    }
}
