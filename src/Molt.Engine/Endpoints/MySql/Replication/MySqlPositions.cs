using Molt.Engine.Replication;
using Molt.MySqlBinlog;

namespace Molt.Engine.Endpoints.MySql.Replication;

/// <summary>Between Molt's MySQL/MariaDB source positions and the binlog client's start points and stream positions.</summary>
internal static class MySqlPositions
{
    /// <summary>
    /// Where a stream after <paramref name="position"/> starts: the GTID state (the source sends what follows it), or the
    /// binlog file and offset where the source has no GTIDs (a MariaDB that never wrote one, MySQL with gtid_mode OFF).
    /// </summary>
    /// <exception cref="ArgumentException">The position is not a MySQL-family one, or has neither GTIDs nor coordinates.</exception>
    public static BinlogStart StartAfter(SourcePosition position) => position switch
    {
        MariaDbGtidList { Gtids.Count: > 0 } list => BinlogStart.AtMariaDbGtid(list.ToString()),
        MariaDbGtidList { Coordinates: { } at } => BinlogStart.AtFile(at.File, at.Position),
        MySqlGtidPosition { Gtids: { } gtids } when gtids.Members.Count > 0 => BinlogStart.AtMySqlGtidSet(gtids.ToString()),
        MySqlGtidPosition { Coordinates: { } at } => BinlogStart.AtFile(at.File, at.Position),
        MariaDbGtidList or MySqlGtidPosition => throw new ArgumentException(
            $"The source position '{position}' has neither GTIDs nor binlog coordinates, so there is nowhere to start the binlog from.", nameof(position)),
        _ => throw new ArgumentException($"A MySQL or MariaDB source starts from a mysql-gtid or mariadb-gtid position, not {position.Notation}.", nameof(position)),
    };

    /// <summary>The stream's position after an event as Molt's notation for the server.</summary>
    public static SourcePosition Of(BinlogStreamPosition position, bool mariaDb)
    {
        var coordinates = position.File.Length > 0 ? new BinlogCoordinates(position.File, position.Position) : null;
        if (mariaDb)
        {
            return MariaDbGtidList.Parse(position.GtidState) with { Coordinates = coordinates };
        }

        var gtids = string.IsNullOrWhiteSpace(position.GtidState) ? null : GtidSet.Parse(position.GtidState);
        return new MySqlGtidPosition(gtids, coordinates ?? (gtids is null ? new BinlogCoordinates("", 0) : null));
    }
}
