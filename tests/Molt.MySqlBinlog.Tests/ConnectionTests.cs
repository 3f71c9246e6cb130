using Molt.MySqlBinlog.Events;

namespace Molt.MySqlBinlog.Tests;

[Collection(BinlogServerCollection.Name)]
public sealed class ConnectionTests(BinlogServerFixture fixture)
{
    [Fact]
    public async Task A_stream_from_the_current_gtid_position_starts_with_a_rotate_and_a_checked_format_description()
    {
        var start = await Live.GtidPositionAsync(fixture.Server);
        await Live.ExecuteAsync(fixture.Server, "shop", "CREATE TABLE `smoke` (`id` INT PRIMARY KEY)", "INSERT INTO `smoke` VALUES (1)");

        var events = await Live.ReadToEndAsync(fixture.Server, BinlogStart.AtMariaDbGtid(start));

        Assert.IsType<RotateEvent>(events[0]);
        var format = Assert.Single(events.OfType<FormatDescriptionEvent>());
        Assert.Equal(ChecksumAlgorithm.Crc32, format.Checksum);
        Assert.Contains("MariaDB", format.ServerVersion);
        Assert.Contains(events.OfType<QueryEvent>(), q => q.Query.Contains("CREATE TABLE `smoke`") && q.Schema == "shop");
        var rows = Assert.Single(events.OfType<RowsEvent>());
        Assert.Equal(RowsEventKind.Write, rows.Kind);
        Assert.Equal(1L, rows.Rows[0].After![0]);
        Assert.Equal("id", rows.Table.Columns[0].Name);
        Assert.Equal(await Live.GtidPositionAsync(fixture.Server), events[^1].Position!.GtidState);
    }

    [Fact]
    public async Task A_wrong_password_fails_with_the_servers_access_denied_error()
    {
        var options = Live.Options(fixture.Server);
        await using var client = new BinlogClient(new BinlogClientOptions
        {
            Connection = new BinlogConnectionOptions { Host = fixture.Server.Host, Port = fixture.Server.Port, User = fixture.Server.AdminUser, Password = "wrong" },
        });

        var error = await Assert.ThrowsAsync<BinlogException>(async () =>
        {
            await foreach (var _ in client.StreamAsync(BinlogStart.AtMariaDbGtid(""))) { }
        });

        Assert.Equal(BinlogErrorIds.AuthenticationFailed, error.ErrorId);
        Assert.Equal(1045, Assert.IsType<BinlogServerException>(error.InnerException).ServerErrorCode);
        Assert.DoesNotContain(options.Connection.Password, error.ToString());
    }
}
