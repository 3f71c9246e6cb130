using Molt.MySqlBinlog.Events;

namespace Molt.MySqlBinlog.Replication;

/// <summary>
/// Follows the stream's file, position and GTID state: a transaction's GTID joins the state when the transaction ends
/// (XID, COMMIT or ROLLBACK after BEGIN, or the one statement of a standalone/DDL transaction).
/// </summary>
internal sealed class TransactionTracker
{
    private readonly SortedDictionary<uint, MariaDbGtid> mariaDbState = [];
    private readonly MySqlGtidSet? mySqlState;
    private MariaDbGtid? pendingMariaDb;
    private MySqlGtidEvent? pendingMySql;
    private bool begun;

    public TransactionTracker(BinlogStart start, bool mariaDb)
    {
        File = start.File ?? "";
        Position = start.File is null ? 4 : start.Position;
        if (mariaDb)
        {
            foreach (var gtid in (start.MariaDbGtidPosition ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parsed = MariaDbGtid.Parse(gtid);
                mariaDbState[parsed.DomainId] = parsed;
            }
        }
        else
        {
            mySqlState = MySqlGtidSet.Parse(start.MySqlGtidSet ?? "");
        }
    }

    public string File { get; private set; }

    public ulong Position { get; private set; }

    public string GtidState => mySqlState?.ToString() ?? string.Join(",", mariaDbState.Values);

    public BinlogStreamPosition Observe(BinlogEvent e)
    {
        switch (e)
        {
            case RotateEvent rotate:
                File = rotate.NextFile;
                Position = rotate.NextPosition;
                break;
            case MariaDbGtidListEvent list:
                foreach (var gtid in list.Gtids)
                {
                    mariaDbState.TryAdd(gtid.DomainId, gtid);
                }

                break;
            case MariaDbGtidEvent gtid:
                // MariaDB's GTID event stands in for BEGIN unless the transaction is one standalone statement.
                pendingMariaDb = gtid.Gtid;
                begun = !gtid.IsStandalone;
                break;
            case MySqlGtidEvent { IsAnonymous: false } gtid:
                pendingMySql = gtid;
                begun = false;
                break;
            case XidEvent:
                Commit();
                break;
            case QueryEvent query when query.IsBegin:
                begun = true;
                break;
            case QueryEvent query when !begun || query.IsCommit || query.IsRollback:
                Commit();
                break;
        }

        if (e is not (HeartbeatEvent or RotateEvent) && e.Header.LogPosition > 0)
        {
            Position = e.Header.LogPosition;
        }

        return new BinlogStreamPosition(File, Position, GtidState, pendingMariaDb?.ToString() ?? pendingMySql?.Gtid);
    }

    private void Commit()
    {
        if (pendingMariaDb is { } mariaDb)
        {
            mariaDbState[mariaDb.DomainId] = mariaDb;
        }

        if (pendingMySql is { } mySql)
        {
            mySqlState?.Add(mySql.SourceUuid, mySql.Tag, mySql.TransactionNumber);
        }

        pendingMariaDb = null;
        pendingMySql = null;
        begun = false;
    }
}
