using Molt.MySqlBinlog.Events;
using MySqlConnector;

namespace Molt.MySqlBinlog.Tests;

[Collection(BinlogServerCollection.Name)]
public sealed class ResumeTests(BinlogServerFixture fixture)
{
    [Fact]
    public async Task A_new_stream_from_the_gtid_state_of_the_last_commit_seen_repeats_nothing_and_misses_nothing()
    {
        await Live.ExecuteAsync(fixture.Server, "shop", "CREATE TABLE `resume` (`id` INT PRIMARY KEY)");
        var start = await Live.GtidPositionAsync(fixture.Server);
        await Live.ExecuteAsync(fixture.Server, "shop", "INSERT INTO `resume` VALUES (1)", "INSERT INTO `resume` VALUES (2)", "INSERT INTO `resume` VALUES (3)");
        var seen = new List<long>();
        BinlogStreamPosition? committed = null;
        await using (var first = new BinlogClient(Live.Options(fixture.Server, stopAtEnd: false)))
        {
            await foreach (var e in first.StreamAsync(BinlogStart.AtMariaDbGtid(start)))
            {
                seen.AddRange(e is RowsEvent rows ? rows.Rows.Select(r => (long)r.After![0]!) : []);
                if (e is XidEvent && seen.Count == 2)
                {
                    committed = e.Position;
                    break;
                }
            }
        }

        await Live.ExecuteAsync(fixture.Server, "shop", "INSERT INTO `resume` VALUES (4)");
        var rest = await Live.ReadToEndAsync(fixture.Server, BinlogStart.AtMariaDbGtid(committed!.GtidState));

        seen.AddRange(rest.OfType<RowsEvent>().SelectMany(r => r.Rows).Select(r => (long)r.After![0]!));
        Assert.Equal([1L, 2L, 3L, 4L], seen);
    }

    [Fact]
    public async Task A_stream_can_start_at_a_binlog_file_and_position_instead_of_a_gtid()
    {
        await Live.ExecuteAsync(fixture.Server, "shop", "CREATE TABLE `by_file` (`id` INT PRIMARY KEY)", "INSERT INTO `by_file` VALUES (1)");
        var (file, position) = await MasterStatusAsync();
        await Live.ExecuteAsync(fixture.Server, "shop", "INSERT INTO `by_file` VALUES (2)");

        var events = await Live.ReadToEndAsync(fixture.Server, BinlogStart.AtFile(file, position));

        Assert.Equal([2L], events.OfType<RowsEvent>().SelectMany(r => r.Rows).Select(r => r.After![0]));
        Assert.Equal(file, events[^1].Position!.File);
        Assert.Equal((await MasterStatusAsync()).Position, events[^1].Position!.Position);
        Assert.Equal(await Live.GtidPositionAsync(fixture.Server), events[^1].Position!.GtidState);
    }

    private async Task<(string File, ulong Position)> MasterStatusAsync()
    {
        await using var connection = new MySqlConnection(fixture.Server.ConnectionString());
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SHOW MASTER STATUS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetString(0), Convert.ToUInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture));
    }
}
