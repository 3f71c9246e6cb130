using Molt.MySqlBinlog.Events;
using Molt.Testing;

namespace Molt.MySqlBinlog.Tests;

/// <summary>Servers configured away from the fixture's defaults: no row metadata, no checksums.</summary>
public sealed class ServerSettingsTests
{
    [Fact]
    public async Task Without_row_metadata_integers_decode_signed_unless_the_caller_says_which_columns_are_unsigned()
    {
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            ExtraSettings = new Dictionary<string, string> { ["binlog-row-metadata"] = "NO_LOG" },
        });
        await server.CreateDatabaseAsync("shop");
        var start = await Live.GtidPositionAsync(server);
        await Live.ExecuteAsync(server, "shop", "CREATE TABLE `u` (`id` INT PRIMARY KEY, `a` TINYINT UNSIGNED, `b` BIGINT UNSIGNED, `c` BIGINT)",
            "INSERT INTO `u` VALUES (1, 255, 18446744073709551615, -1)");

        var plain = (await Live.ReadToEndAsync(server, BinlogStart.AtMariaDbGtid(start))).OfType<RowsEvent>().Single();
        var resolved = (await Live.ReadToEndAsync(server, BinlogStart.AtMariaDbGtid(start), t => t.Table == "u" ? [false, true, true, false] : null))
            .OfType<RowsEvent>().Single();

        Assert.False(plain.Table.HasSignedness);
        Assert.Null(plain.Table.Columns[1].IsUnsigned);
        Assert.Equal([1L, -1L, -1L, -1L], plain.Rows[0].After!.Values);
        Assert.Equal([1L, 255UL, ulong.MaxValue, -1L], resolved.Rows[0].After!.Values);
    }

    [Fact]
    public async Task A_binlog_written_without_checksums_streams_with_none_announced()
    {
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            ExtraSettings = new Dictionary<string, string> { ["binlog-checksum"] = "NONE" },
        });
        await server.CreateDatabaseAsync("shop");
        var start = await Live.GtidPositionAsync(server);
        await Live.ExecuteAsync(server, "shop", "CREATE TABLE `plain` (`id` INT PRIMARY KEY)", "INSERT INTO `plain` VALUES (9)");

        var events = await Live.ReadToEndAsync(server, BinlogStart.AtMariaDbGtid(start));

        Assert.Equal(ChecksumAlgorithm.None, events.OfType<FormatDescriptionEvent>().Single().Checksum);
        Assert.Equal(9L, events.OfType<RowsEvent>().Single().Rows[0].After![0]);
    }
}
