using Molt.Engine.Replication;
using Xunit;

namespace Molt.Engine.Tests.Replication;

public sealed class SourcePositionTests
{
    [Theory]
    [InlineData("0/0")]
    [InlineData("16/B374D848")]
    [InlineData("FFFFFFFF/FFFFFFFF")]
    public void A_PostgreSQL_LSN_reads_back_from_its_text(string text) =>
        Assert.Equal(text, SourcePosition.Parse(PostgresLsn.NotationName, text).ToString());

    [Fact]
    public void LSNs_order_by_their_whole_64_bit_value_not_by_text()
    {
        var low = PostgresLsn.Parse("9/FFFFFFFF");
        var high = PostgresLsn.Parse("A/0");
        Assert.Equal(PositionOrder.Before, low.CompareWith(high));
        Assert.True(high.HasReached(low));
        Assert.False(low.HasReached(high));
    }

    [Theory]
    [InlineData("16")]
    [InlineData("16/")]
    [InlineData("/16")]
    [InlineData("G/1")]
    public void A_malformed_LSN_is_refused(string text) => Assert.Throws<FormatException>(() => PostgresLsn.Parse(text));

    [Fact]
    public void A_MySQL_GTID_set_merges_intervals_and_prints_as_MySQL_does()
    {
        var set = GtidSet.Parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:6-7:9,\n  4e11fa47-71ca-11e1-9e33-c80aa9429562:3");
        Assert.Equal("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7:9,4e11fa47-71ca-11e1-9e33-c80aa9429562:3", set.ToString());
    }

    [Fact]
    public void Tagged_GTIDs_of_MySQL_8_3_keep_their_tags_apart_from_untagged_ones()
    {
        var set = GtidSet.Parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-3:billing:1-2:5");
        Assert.True(set.Contains("3e11fa47-71ca-11e1-9e33-c80aa9429562", 3));
        Assert.True(set.Contains("3e11fa47-71ca-11e1-9e33-c80aa9429562:billing", 5));
        Assert.False(set.Contains("3e11fa47-71ca-11e1-9e33-c80aa9429562:billing", 3));
        Assert.Equal("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-3:billing:1-2:5", set.ToString());
    }

    [Fact]
    public void GTID_sets_compare_by_containment_and_can_be_concurrent()
    {
        const string a = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        const string b = "4e11fa47-71ca-11e1-9e33-c80aa9429562";
        var base1 = GtidSet.Parse($"{a}:1-10");
        Assert.Equal(PositionOrder.After, GtidSet.Parse($"{a}:1-11").CompareWith(base1));
        Assert.Equal(PositionOrder.Before, base1.CompareWith(GtidSet.Parse($"{a}:1-10,{b}:1")));
        Assert.Equal(PositionOrder.Same, base1.CompareWith(GtidSet.Parse($"{a}:1-4:5-10")));
        Assert.Equal(PositionOrder.Concurrent, GtidSet.Parse($"{a}:1-9:11").CompareWith(base1));
        Assert.Equal(PositionOrder.After, base1.Add(a, 11).CompareWith(base1));
        Assert.Equal($"{a}:1-11", base1.Add(a, 11).ToString());
    }

    [Theory]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5 @ binlog.000003:157")]
    [InlineData("binlog.000003:157")]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")]
    public void A_MySQL_position_reads_back_from_its_text(string text) =>
        Assert.Equal(text, SourcePosition.Parse(MySqlGtidPosition.NotationName, text).ToString());

    [Fact]
    public void MySQL_positions_without_GTIDs_order_by_file_then_offset()
    {
        var earlier = MySqlGtidPosition.Parse("binlog.000003:99999");
        var later = MySqlGtidPosition.Parse("binlog.000004:4");
        Assert.Equal(PositionOrder.Before, earlier.CompareWith(later));
    }

    [Theory]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:0")]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:5-3")]
    [InlineData("not-a-uuid:1-3")]
    public void A_malformed_GTID_set_is_refused(string text) => Assert.Throws<FormatException>(() => GtidSet.Parse(text));

    [Fact]
    public void A_MariaDB_GTID_list_compares_domain_by_domain()
    {
        var position = MariaDbGtidList.Parse("0-1-100,1-2-7");
        Assert.Equal("0-1-100,1-2-7", position.ToString());
        Assert.Equal(PositionOrder.After, MariaDbGtidList.Parse("0-3-101,1-2-7").CompareWith(position));
        Assert.Equal(PositionOrder.Before, MariaDbGtidList.Parse("0-1-100").CompareWith(position));
        Assert.Equal(PositionOrder.Concurrent, MariaDbGtidList.Parse("0-1-101,1-2-6").CompareWith(position));
        Assert.Equal(PositionOrder.Same, MariaDbGtidList.Parse("1-2-7, 0-1-100").CompareWith(position));
        Assert.Equal("0-1-100,1-2-8", position.With(new MariaDbGtid(1, 2, 8)).ToString());
    }

    [Theory]
    [InlineData("0-1")]
    [InlineData("0-1-x")]
    [InlineData("0-1-5,0-2-6")]
    public void A_malformed_MariaDB_GTID_list_is_refused(string text) => Assert.Throws<FormatException>(() => MariaDbGtidList.Parse(text));

    [Fact]
    public void A_CockroachDB_HLC_timestamp_orders_by_wall_time_then_logical_counter()
    {
        var first = CockroachHlc.Parse("1700000000000000000.0000000001");
        var second = CockroachHlc.Parse("1700000000000000000.0000000002");
        var third = CockroachHlc.Parse("1700000000000000001.0000000000");
        Assert.Equal("1700000000000000000.0000000001", first.ToString());
        Assert.Equal(PositionOrder.Before, first.CompareWith(second));
        Assert.Equal(PositionOrder.Before, second.CompareWith(third));
        Assert.Equal(new DateTimeOffset(2023, 11, 14, 22, 13, 20, TimeSpan.Zero), first.WallTime);
    }

    [Fact]
    public void Positions_of_different_databases_cannot_be_compared() =>
        Assert.Throws<ArgumentException>(() => PostgresLsn.Parse("0/1").CompareWith(CockroachHlc.Parse("1.0")));

    [Fact]
    public void An_unknown_notation_is_refused() =>
        Assert.Throws<FormatException>(() => SourcePosition.Parse("oracle-scn", "1"));
}
