using Molt.MySqlBinlog.Events;
using Molt.MySqlBinlog.Replication;

namespace Molt.MySqlBinlog.Tests;

/// <summary>The MySQL transaction shapes (from the documentation): GTID, BEGIN, rows, XID; and GTID, DDL with no BEGIN.</summary>
[Trait("Source", "documentation")]
public sealed class TransactionTrackerTests
{
    private const string Uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    [Fact]
    public void A_mysql_gtid_joins_the_executed_set_at_the_xid_and_a_ddl_gtid_right_after_its_statement()
    {
        var tracker = new TransactionTracker(BinlogStart.AtMySqlGtidSet($"{Uuid}:1-5"), mariaDb: false);
        BinlogStreamPosition Feed(BinlogEvent e) => tracker.Observe(e);

        Feed(new RotateEvent(Header(BinlogEventType.Rotate, 0), "binlog.000007", 4));
        Feed(new MySqlGtidEvent(Header(BinlogEventType.Gtid, 200), Uuid, null, 6, 0, 1));
        var inside = Feed(new QueryEvent(Header(BinlogEventType.Query, 300), 1, 0, 0, "shop", "BEGIN"));
        var committed = Feed(new XidEvent(Header(BinlogEventType.Xid, 400), 9));
        Feed(new MySqlGtidEvent(Header(BinlogEventType.Gtid, 500), Uuid, null, 7, 1, 2));
        var ddl = Feed(new QueryEvent(Header(BinlogEventType.Query, 600), 1, 0, 0, "shop", "CREATE TABLE `t` (`id` INT)"));

        Assert.Equal($"{Uuid}:1-5", inside.GtidState);
        Assert.Equal($"{Uuid}:6", inside.CurrentTransactionGtid);
        Assert.Equal($"{Uuid}:1-6", committed.GtidState);
        Assert.Equal(("binlog.000007", 400UL), (committed.File, committed.Position));
        Assert.Equal($"{Uuid}:1-7", ddl.GtidState);
        Assert.Null(ddl.CurrentTransactionGtid);
    }

    private static EventHeader Header(BinlogEventType type, uint position) => new(0, type, 1, 0, position, 0);
}
