using Molt.MySqlBinlog.Events;
using Molt.Testing;

namespace Molt.MySqlBinlog.Tests;

public sealed class SignednessTests
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
        Assert.Null(plain.Table.Columns[1].Unsigned);
        Assert.Equal([1L, -1L, -1L, -1L], plain.Rows[0].After!.Values);
        Assert.Equal([1L, 255UL, ulong.MaxValue, -1L], resolved.Rows[0].After!.Values);
    }
}
