using System.Globalization;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// Which committed transactions a PostgreSQL snapshot sees, from its <c>txid_current_snapshot()</c> text
/// (<c>xmin:xmax:xip,...</c> with epoch-extended ids; https://www.postgresql.org/docs/15/functions-info.html#FUNCTIONS-PG-SNAPSHOT-PARTS.
/// The txid_ spelling, deprecated since PostgreSQL 13 but still there, is the one PostgreSQL 11 and 12 have too):
/// those below xmin, and those below xmax not in progress when it was taken. A table loaded from such a snapshot
/// already holds what these transactions wrote, so the stream must not apply their changes to it again.
/// </summary>
internal sealed class PgSnapshotVisibility
{
    private readonly ulong xmin;
    private readonly ulong xmax;
    private readonly HashSet<ulong> inProgress;

    private PgSnapshotVisibility(ulong xmin, ulong xmax, HashSet<ulong> inProgress)
    {
        this.xmin = xmin;
        this.xmax = xmax;
        this.inProgress = inProgress;
    }

    /// <exception cref="FormatException">The text is not a txid_snapshot.</exception>
    public static PgSnapshotVisibility Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 3)
        {
            throw new FormatException($"'{text}' is not a txid_snapshot (xmin:xmax:xip_list).");
        }

        var inProgress = parts[2].Length == 0 ? [] : parts[2].Split(',').Select(Xid).ToHashSet();
        return new PgSnapshotVisibility(Xid(parts[0]), Xid(parts[1]), inProgress);
    }

    /// <summary>
    /// True when the committed transaction <paramref name="xid"/> (the 32-bit id pgoutput sends) is visible to the
    /// snapshot. The snapshot's ids carry their epoch; the stream's transactions are near its xmax, so the 32-bit id is
    /// taken as the full id nearest to xmax.
    /// </summary>
    public bool Sees(uint xid)
    {
        var full = (ulong)((long)xmax + (int)(xid - (uint)xmax));
        return full < xmin || (full < xmax && !inProgress.Contains(full));
    }

    private static ulong Xid(string text) => ulong.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
}
