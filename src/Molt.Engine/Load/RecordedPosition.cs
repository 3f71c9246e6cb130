using Molt.Engine.Replication;

namespace Molt.Engine.Load;

/// <summary>
/// A snapshot's source position in the two text columns <c>_molt.fetch_runs</c> has always kept it in, so rows written by
/// earlier runs read back: <c>snapshot_position</c> (a PostgreSQL LSN, or MySQL/MariaDB binlog file:offset) and
/// <c>gtid_set</c> (the GTID set or list executed at the snapshot, or null).
/// </summary>
public sealed record RecordedPosition(string Value, string? GtidSet)
{
    public static RecordedPosition Of(SourcePosition position) => position switch
    {
        MySqlGtidPosition mysql => new(mysql.Coordinates?.ToString() ?? string.Empty, mysql.Gtids?.ToString()),
        MariaDbGtidList mariaDb => new(mariaDb.Coordinates?.ToString() ?? string.Empty, mariaDb.Gtids.Count == 0 ? null : mariaDb.ToString()),
        _ => new(position.ToString(), null),
    };

    /// <summary>The recorded text read as a position of the same notation as <paramref name="like"/> (the same source's current snapshot).</summary>
    public SourcePosition ToPosition(SourcePosition like) => like switch
    {
        PostgresLsn => PostgresLsn.Parse(Value),
        MySqlGtidPosition => new MySqlGtidPosition(GtidSet is null ? null : Replication.GtidSet.Parse(GtidSet), Coordinates()),
        MariaDbGtidList => MariaDbGtidList.Parse(GtidSet ?? string.Empty) with { Coordinates = Coordinates() },
        _ => SourcePosition.Parse(like.Notation, Value),
    };

    public override string ToString() => GtidSet is null ? Value : $"{Value} (GTID {GtidSet})";

    private BinlogCoordinates? Coordinates() => Value.Length == 0 ? null : BinlogCoordinates.Parse(Value);
}
