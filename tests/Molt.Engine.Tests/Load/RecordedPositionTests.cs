using Molt.Engine.Load;
using Molt.Engine.Replication;

namespace Molt.Engine.Tests.Load;

/// <summary>_molt.fetch_runs keeps a position in the text columns earlier runs wrote; typed positions read them back.</summary>
public sealed class RecordedPositionTests
{
    private const string Uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    [Fact]
    public void A_PostgreSQL_LSN_is_recorded_as_its_text_and_reads_back()
    {
        var recorded = RecordedPosition.Of(PostgresLsn.Parse("16/B374D848"));
        Assert.Equal(new RecordedPosition("16/B374D848", null), recorded);
        Assert.Equal(PostgresLsn.Parse("16/B374D848"), recorded.ToPosition(PostgresLsn.Parse("0/0")));
    }

    [Fact]
    public void A_MySQL_row_of_an_earlier_run_reads_back_as_its_GTID_set_and_coordinates()
    {
        var position = Assert.IsType<MySqlGtidPosition>(new RecordedPosition("binlog.000003:154", $"{Uuid}:1-5").ToPosition(
            new MySqlGtidPosition(null, BinlogCoordinates.Parse("binlog.000009:4"))));
        Assert.Equal(BinlogCoordinates.Parse("binlog.000003:154"), position.Coordinates);
        Assert.Equal(GtidSet.Parse($"{Uuid}:1-5"), position.Gtids);
        Assert.Equal(new RecordedPosition("binlog.000003:154", $"{Uuid}:1-5"), RecordedPosition.Of(position));
    }

    [Fact]
    public void A_MariaDB_row_without_GTIDs_reads_back_as_an_empty_list_at_its_coordinates()
    {
        var like = MariaDbGtidList.Parse("0-1-9") with { Coordinates = BinlogCoordinates.Parse("mariadb-bin.000001:4") };
        var position = Assert.IsType<MariaDbGtidList>(new RecordedPosition("mariadb-bin.000002:328", null).ToPosition(like));
        Assert.Empty(position.Gtids);
        Assert.Equal(BinlogCoordinates.Parse("mariadb-bin.000002:328"), position.Coordinates);
        Assert.Equal(new RecordedPosition("mariadb-bin.000002:328", null), RecordedPosition.Of(position));
        Assert.Equal(new RecordedPosition("mariadb-bin.000001:4", "0-1-9"), RecordedPosition.Of(like));
    }
}
