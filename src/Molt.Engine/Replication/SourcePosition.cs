using System.Globalization;

namespace Molt.Engine.Replication;

/// <summary>How one source position stands against another.</summary>
public enum PositionOrder
{
    Before,
    Same,
    After,
    /// <summary>Neither contains the other (GTID sets or lists that each hold transactions the other lacks).</summary>
    Concurrent,
}

/// <summary>
/// A point in a source's change history that replication can start from, confirm and stop at. Each database has its
/// own notation; the loop only compares positions of one kind and stores their <see cref="ToString"/> text in
/// <c>_molt</c>, read back with <see cref="Parse"/>.
/// </summary>
public abstract record SourcePosition
{
    /// <summary>The notation's name as stored beside the text in <c>_molt</c>: postgres-lsn, mysql-gtid, mariadb-gtid, cockroach-hlc.</summary>
    public abstract string Notation { get; }

    /// <summary>Compares with a position of the same notation.</summary>
    /// <exception cref="ArgumentException"><paramref name="other"/> is of another notation.</exception>
    public abstract PositionOrder CompareWith(SourcePosition other);

    /// <summary>True when every change up to <paramref name="other"/> lies at or before this position.</summary>
    public bool HasReached(SourcePosition other) => CompareWith(other) is PositionOrder.Same or PositionOrder.After;

    /// <summary>Reads a position from its notation name and text form.</summary>
    /// <exception cref="FormatException">The text is not a position of that notation.</exception>
    public static SourcePosition Parse(string notation, string text) => notation switch
    {
        PostgresLsn.NotationName => PostgresLsn.Parse(text),
        MySqlGtidPosition.NotationName => MySqlGtidPosition.Parse(text),
        MariaDbGtidList.NotationName => MariaDbGtidList.Parse(text),
        CockroachHlc.NotationName => CockroachHlc.Parse(text),
        _ => throw new FormatException($"'{notation}' is not a source position notation Molt knows."),
    };

    private protected T Same<T>(SourcePosition other) where T : SourcePosition =>
        other as T ?? throw new ArgumentException($"A {Notation} position cannot be compared with a {other.Notation} position.", nameof(other));

    private protected static PositionOrder Order(int comparison) =>
        comparison < 0 ? PositionOrder.Before : comparison > 0 ? PositionOrder.After : PositionOrder.Same;

    /// <summary>Folds per-member comparisons of two sets: all the same, one side ahead, or each ahead somewhere.</summary>
    private protected static PositionOrder Combine(IEnumerable<PositionOrder> members)
    {
        var result = PositionOrder.Same;
        foreach (var member in members)
        {
            if (member == PositionOrder.Same || member == result)
                continue;
            if (result == PositionOrder.Same && member is PositionOrder.Before or PositionOrder.After)
                result = member;
            else
                return PositionOrder.Concurrent;
        }
        return result;
    }
}

/// <summary>A PostgreSQL write-ahead log position, written as two hexadecimal halves ("16/B374D848").</summary>
internal sealed record PostgresLsn(ulong Value) : SourcePosition, IComparable<PostgresLsn>
{
    public const string NotationName = "postgres-lsn";

    public override string Notation => NotationName;

    public override PositionOrder CompareWith(SourcePosition other) => Order(Value.CompareTo(Same<PostgresLsn>(other).Value));

    public int CompareTo(PostgresLsn? other) => other is null ? 1 : Value.CompareTo(other.Value);

    public static bool operator <(PostgresLsn? left, PostgresLsn? right) => Comparer<PostgresLsn>.Default.Compare(left, right) < 0;

    public static bool operator <=(PostgresLsn? left, PostgresLsn? right) => Comparer<PostgresLsn>.Default.Compare(left, right) <= 0;

    public static bool operator >(PostgresLsn? left, PostgresLsn? right) => Comparer<PostgresLsn>.Default.Compare(left, right) > 0;

    public static bool operator >=(PostgresLsn? left, PostgresLsn? right) => Comparer<PostgresLsn>.Default.Compare(left, right) >= 0;

    public static PostgresLsn Parse(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == text.Length - 1
            || !uint.TryParse(text.AsSpan(0, slash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high)
            || !uint.TryParse(text.AsSpan(slash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low))
            throw new FormatException($"'{text}' is not a PostgreSQL LSN (two hexadecimal numbers separated by '/', e.g. 16/B374D848).");
        return new PostgresLsn(((ulong)high << 32) | low);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Value >> 32:X}/{Value & 0xFFFFFFFF:X}");
}

/// <summary>A MySQL binlog file and the byte offset of an event in it.</summary>
internal sealed record BinlogCoordinates(string File, ulong Position) : IComparable<BinlogCoordinates>
{
    /// <summary>Binlog files of one server are numbered in order (name.000001, name.000002...), so names sort by number.</summary>
    public int CompareTo(BinlogCoordinates? other) => other is null ? 1
        : string.CompareOrdinal(File, other.File) is var byFile and not 0 ? byFile : Position.CompareTo(other.Position);

    public static bool operator <(BinlogCoordinates? left, BinlogCoordinates? right) => Comparer<BinlogCoordinates>.Default.Compare(left, right) < 0;

    public static bool operator <=(BinlogCoordinates? left, BinlogCoordinates? right) => Comparer<BinlogCoordinates>.Default.Compare(left, right) <= 0;

    public static bool operator >(BinlogCoordinates? left, BinlogCoordinates? right) => Comparer<BinlogCoordinates>.Default.Compare(left, right) > 0;

    public static bool operator >=(BinlogCoordinates? left, BinlogCoordinates? right) => Comparer<BinlogCoordinates>.Default.Compare(left, right) >= 0;

    public static BinlogCoordinates Parse(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !ulong.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var position))
            throw new FormatException($"'{text}' is not a binlog position (file:offset, e.g. binlog.000003:157).");
        return new BinlogCoordinates(text[..colon], position);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{File}:{Position}");
}

/// <summary>
/// A MySQL executed GTID set (server UUID, optional tag of 8.3+, then intervals of transaction numbers), with the binlog
/// coordinates where it was read as a fallback for servers without GTIDs. Text form: the GTID set as MySQL prints it
/// (<c>uuid[:tag]:1-5:7,uuid2:1-3</c>), or <c>file:offset</c>, or both joined by " @ ".
/// </summary>
internal sealed record MySqlGtidPosition : SourcePosition
{
    public const string NotationName = "mysql-gtid";

    public MySqlGtidPosition(GtidSet? gtids, BinlogCoordinates? coordinates)
    {
        if (gtids is null && coordinates is null)
            throw new ArgumentException("A MySQL position needs a GTID set, binlog coordinates, or both.");
        Gtids = gtids;
        Coordinates = coordinates;
    }

    public GtidSet? Gtids { get; }

    public BinlogCoordinates? Coordinates { get; }

    public override string Notation => NotationName;

    /// <summary>GTID sets compare by containment; without GTIDs on both sides, by binlog coordinates.</summary>
    public override PositionOrder CompareWith(SourcePosition other)
    {
        var that = Same<MySqlGtidPosition>(other);
        if (Gtids is not null && that.Gtids is not null)
            return Gtids.CompareWith(that.Gtids);
        if (Coordinates is not null && that.Coordinates is not null)
            return Order(Coordinates.CompareTo(that.Coordinates));
        throw new ArgumentException($"MySQL positions {this} and {that} share neither GTIDs nor binlog coordinates.", nameof(other));
    }

    public static MySqlGtidPosition Parse(string text)
    {
        var at = text.IndexOf(" @ ", StringComparison.Ordinal);
        if (at >= 0)
            return new MySqlGtidPosition(GtidSet.Parse(text[..at]), BinlogCoordinates.Parse(text[(at + 3)..]));
        return LooksLikeCoordinates(text)
            ? new MySqlGtidPosition(null, BinlogCoordinates.Parse(text))
            : new MySqlGtidPosition(GtidSet.Parse(text), null);
    }

    // A GTID set starts with a 36-character UUID followed by ':'; binlog file names do not.
    private static bool LooksLikeCoordinates(string text) => text.Length > 0 && !(text.Length > 36 && text[36] == ':' && Guid.TryParse(text.AsSpan(0, 36), out _));

    public override string ToString() => (Gtids, Coordinates) switch
    {
        ({ } g, { } c) => $"{g} @ {c}",
        ({ } g, null) => g.ToString(),
        _ => Coordinates!.ToString(),
    };
}

/// <summary>
/// A MySQL GTID set: for each source (server UUID and, from MySQL 8.3, an optional tag) the transaction numbers
/// executed, as sorted, merged, inclusive intervals.
/// </summary>
public sealed class GtidSet : IEquatable<GtidSet>
{
    private readonly SortedDictionary<string, List<(ulong First, ulong Last)>> members;

    private GtidSet(SortedDictionary<string, List<(ulong First, ulong Last)>> members) => this.members = members;

    public static GtidSet Empty { get; } = new(new SortedDictionary<string, List<(ulong, ulong)>>(StringComparer.Ordinal));

    /// <summary>Each member ("uuid" or "uuid:tag", lower case) with its intervals.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(ulong First, ulong Last)>> Members =>
        members.ToDictionary(m => m.Key, m => (IReadOnlyList<(ulong, ulong)>)m.Value, StringComparer.Ordinal);

    public bool Contains(string source, ulong transaction) =>
        members.TryGetValue(source.ToLowerInvariant(), out var intervals) && intervals.Any(i => i.First <= transaction && transaction <= i.Last);

    /// <summary>This set with one more transaction, as a replica adds each GTID it applies.</summary>
    public GtidSet Add(string source, ulong transaction)
    {
        var copy = new SortedDictionary<string, List<(ulong, ulong)>>(StringComparer.Ordinal);
        foreach (var (key, intervals) in members)
            copy[key] = [.. intervals];
        var list = copy.TryGetValue(source.ToLowerInvariant(), out var existing) ? existing : copy[source.ToLowerInvariant()] = [];
        list.Add((transaction, transaction));
        copy[source.ToLowerInvariant()] = Merge(list);
        return new GtidSet(copy);
    }

    public PositionOrder CompareWith(GtidSet other)
    {
        var thisHasMore = !IsSubsetOf(this, other);
        var otherHasMore = !IsSubsetOf(other, this);
        return (thisHasMore, otherHasMore) switch
        {
            (false, false) => PositionOrder.Same,
            (true, false) => PositionOrder.After,
            (false, true) => PositionOrder.Before,
            _ => PositionOrder.Concurrent,
        };
    }

    private static bool IsSubsetOf(GtidSet a, GtidSet b) =>
        a.members.All(m => m.Value.All(interval =>
            b.members.TryGetValue(m.Key, out var covering) && covering.Any(c => c.First <= interval.First && interval.Last <= c.Last)));

    /// <summary>Reads MySQL's text form; whitespace and line breaks (as SHOW BINARY LOG STATUS prints them) are ignored.</summary>
    public static GtidSet Parse(string text)
    {
        var result = new SortedDictionary<string, List<(ulong, ulong)>>(StringComparer.Ordinal);
        var compact = string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        if (compact.Length == 0)
            return Empty;
        foreach (var member in compact.Split(','))
        {
            var parts = member.Split(':');
            if (parts.Length < 2 || !Guid.TryParse(parts[0], out _))
                throw new FormatException($"'{member}' in GTID set '{text}' does not start with a server UUID.");
            var source = parts[0].ToLowerInvariant();
            var tag = (string?)null;
            var list = new List<(ulong, ulong)>();
            foreach (var part in parts.Skip(1))
            {
                if (part.Length > 0 && (char.IsLetter(part[0]) || part[0] == '_'))
                {
                    AddMember(result, source, tag, list);
                    tag = part.ToLowerInvariant();
                    list = [];
                    continue;
                }
                list.Add(ParseInterval(part, text));
            }
            AddMember(result, source, tag, list);
        }
        return new GtidSet(result);
    }

    private static void AddMember(SortedDictionary<string, List<(ulong, ulong)>> result, string source, string? tag, List<(ulong, ulong)> intervals)
    {
        if (intervals.Count == 0)
            return;
        var key = tag is null ? source : $"{source}:{tag}";
        if (result.TryGetValue(key, out var existing))
            intervals.AddRange(existing);
        result[key] = Merge(intervals);
    }

    private static (ulong, ulong) ParseInterval(string part, string text)
    {
        var dash = part.IndexOf('-', StringComparison.Ordinal);
        var firstText = dash < 0 ? part.AsSpan() : part.AsSpan(0, dash);
        var lastText = dash < 0 ? part.AsSpan() : part.AsSpan(dash + 1);
        var ok = ulong.TryParse(firstText, NumberStyles.None, CultureInfo.InvariantCulture, out var single)
            & ulong.TryParse(lastText, NumberStyles.None, CultureInfo.InvariantCulture, out var last);
        if (!ok || single == 0 || last < single)
            throw new FormatException($"'{part}' in GTID set '{text}' is not a transaction number or interval (n or first-last, from 1).");
        return (single, last);
    }

    private static List<(ulong First, ulong Last)> Merge(List<(ulong First, ulong Last)> intervals)
    {
        var merged = new List<(ulong First, ulong Last)>();
        foreach (var interval in intervals.OrderBy(i => i.First))
        {
            if (merged.Count > 0 && interval.First <= merged[^1].Last + 1)
                merged[^1] = (merged[^1].First, Math.Max(merged[^1].Last, interval.Last));
            else
                merged.Add(interval);
        }
        return merged;
    }

    public bool Equals(GtidSet? other) => other is not null && CompareWith(other) == PositionOrder.Same;

    public override bool Equals(object? obj) => Equals(obj as GtidSet);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

    /// <summary>MySQL's own spelling: members by UUID, a tag's intervals after its name.</summary>
    public override string ToString()
    {
        var byUuid = members.GroupBy(m => m.Key[..36], StringComparer.Ordinal);
        return string.Join(",", byUuid.Select(group =>
            group.Key + string.Concat(group.OrderBy(m => m.Key.Length > 36 ? m.Key[37..] : "", StringComparer.Ordinal).Select(m =>
                (m.Key.Length > 36 ? ":" + m.Key[37..] : "") + string.Concat(m.Value.Select(i =>
                    i.First == i.Last ? string.Create(CultureInfo.InvariantCulture, $":{i.First}") : string.Create(CultureInfo.InvariantCulture, $":{i.First}-{i.Last}")))))));
    }
}

/// <summary>
/// A MariaDB GTID position: for each replication domain the last transaction applied (domain-server-sequence),
/// comma separated as <c>@@gtid_binlog_pos</c> prints it ("0-1-100,1-2-7").
/// </summary>
internal sealed record MariaDbGtidList : SourcePosition
{
    public const string NotationName = "mariadb-gtid";

    public MariaDbGtidList(IEnumerable<MariaDbGtid> gtids)
    {
        var byDomain = new SortedDictionary<uint, MariaDbGtid>();
        foreach (var gtid in gtids)
        {
            if (!byDomain.TryAdd(gtid.Domain, gtid))
                throw new FormatException($"MariaDB GTID list names domain {gtid.Domain} twice.");
        }
        Gtids = [.. byDomain.Values];
    }

    /// <summary>One GTID per domain, by domain.</summary>
    public IReadOnlyList<MariaDbGtid> Gtids { get; }

    /// <summary>The binary log file and offset of the same point, where known (a load's snapshot records both); not compared.</summary>
    public BinlogCoordinates? Coordinates { get; init; }

    public override string Notation => NotationName;

    /// <summary>This list with <paramref name="gtid"/> as its domain's latest transaction.</summary>
    public MariaDbGtidList With(MariaDbGtid gtid) => new(Gtids.Where(g => g.Domain != gtid.Domain).Append(gtid));

    /// <summary>Domains compare by sequence number (it grows within a domain whatever server wrote it); a domain one side lacks counts as behind.</summary>
    public override PositionOrder CompareWith(SourcePosition other)
    {
        var that = Same<MariaDbGtidList>(other);
        var domains = Gtids.Select(g => g.Domain).Union(that.Gtids.Select(g => g.Domain));
        return Combine(domains.Select(domain =>
        {
            var mine = Gtids.FirstOrDefault(g => g.Domain == domain);
            var theirs = that.Gtids.FirstOrDefault(g => g.Domain == domain);
            return mine is null ? PositionOrder.Before : theirs is null ? PositionOrder.After : Order(mine.Sequence.CompareTo(theirs.Sequence));
        }));
    }

    public static MariaDbGtidList Parse(string text) =>
        new(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(MariaDbGtid.Parse));

    public bool Equals(MariaDbGtidList? other) => other is not null && Gtids.SequenceEqual(other.Gtids);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

    public override string ToString() => string.Join(",", Gtids);
}

/// <summary>One MariaDB global transaction id: replication domain, originating server id, sequence number.</summary>
internal sealed record MariaDbGtid(uint Domain, uint ServerId, ulong Sequence)
{
    public static MariaDbGtid Parse(string text)
    {
        var parts = text.Trim().Split('-');
        if (parts.Length != 3
            || !uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var domain)
            || !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var server)
            || !ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            throw new FormatException($"'{text}' is not a MariaDB GTID (domain-server-sequence, e.g. 0-1-100).");
        return new MariaDbGtid(domain, server, sequence);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Domain}-{ServerId}-{Sequence}");
}

/// <summary>
/// A CockroachDB hybrid logical clock timestamp as changefeeds print it: wall time in nanoseconds since the Unix epoch,
/// a dot, and a ten-digit logical counter ("1700000000000000000.0000000001").
/// </summary>
internal sealed record CockroachHlc(long WallNanos, int Logical) : SourcePosition, IComparable<CockroachHlc>
{
    public const string NotationName = "cockroach-hlc";

    public override string Notation => NotationName;

    public int CompareTo(CockroachHlc? other) => other is null ? 1
        : WallNanos.CompareTo(other.WallNanos) is var byWall and not 0 ? byWall : Logical.CompareTo(other.Logical);

    public static bool operator <(CockroachHlc? left, CockroachHlc? right) => Comparer<CockroachHlc>.Default.Compare(left, right) < 0;

    public static bool operator <=(CockroachHlc? left, CockroachHlc? right) => Comparer<CockroachHlc>.Default.Compare(left, right) <= 0;

    public static bool operator >(CockroachHlc? left, CockroachHlc? right) => Comparer<CockroachHlc>.Default.Compare(left, right) > 0;

    public static bool operator >=(CockroachHlc? left, CockroachHlc? right) => Comparer<CockroachHlc>.Default.Compare(left, right) >= 0;

    public override PositionOrder CompareWith(SourcePosition other) => Order(CompareTo(Same<CockroachHlc>(other)));

    public DateTimeOffset WallTime => DateTimeOffset.UnixEpoch.AddTicks(WallNanos / 100);

    public static CockroachHlc Parse(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var wallText = dot < 0 ? text.AsSpan() : text.AsSpan(0, dot);
        var logicalText = dot < 0 ? "0".AsSpan() : text.AsSpan(dot + 1);
        if (!long.TryParse(wallText, NumberStyles.None, CultureInfo.InvariantCulture, out var wall)
            || !int.TryParse(logicalText, NumberStyles.None, CultureInfo.InvariantCulture, out var logical))
            throw new FormatException($"'{text}' is not a CockroachDB HLC timestamp (wall nanoseconds, '.', logical counter).");
        return new CockroachHlc(wall, logical);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{WallNanos}.{Logical:D10}");
}
