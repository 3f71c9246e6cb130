using System.Globalization;
using Molt.MySqlBinlog.Protocol;

namespace Molt.MySqlBinlog.Replication;

/// <summary>
/// A MySQL GTID set (uuid:1-5:7, with 8.3+ tags: uuid:tag:1-3), kept as sorted closed intervals per source uuid and tag,
/// in the binary form COM_BINLOG_DUMP_GTID wants.
/// </summary>
public sealed class MySqlGtidSet
{
    private const byte TaggedFormat = 1;

    private readonly SortedDictionary<(string Uuid, string Tag), List<(long Start, long End)>> intervals = [];

    public bool IsEmpty => intervals.Count == 0;

    public bool HasTags => intervals.Keys.Any(k => k.Tag.Length > 0);

    public static MySqlGtidSet Parse(string text)
    {
        var set = new MySqlGtidSet();
        foreach (var member in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = member.Split(':');
            if (parts.Length < 2 || !Guid.TryParse(parts[0], out var uuid))
            {
                throw Invalid(text);
            }

            var tag = "";
            foreach (var part in parts.Skip(1))
            {
                if (part.Length > 0 && !char.IsAsciiDigit(part[0]))
                {
                    // A tag applies to the intervals after it (8.3+).
                    tag = part.ToLowerInvariant();
                    continue;
                }

                var bounds = part.Split('-');
                if (bounds.Length is < 1 or > 2 || !long.TryParse(bounds[0], CultureInfo.InvariantCulture, out var start) ||
                    !long.TryParse(bounds[^1], CultureInfo.InvariantCulture, out var end) || start < 1 || end < start)
                {
                    throw Invalid(text);
                }

                set.AddRange(uuid.ToString("D"), tag, start, end);
            }
        }

        return set;
    }

    public void Add(string uuid, string? tag, long transactionNumber) => AddRange(uuid.ToLowerInvariant(), tag ?? "", transactionNumber, transactionNumber);

    public bool Contains(string uuid, string? tag, long transactionNumber) =>
        intervals.TryGetValue((uuid.ToLowerInvariant(), tag ?? ""), out var list) && list.Any(r => r.Start <= transactionNumber && transactionNumber <= r.End);

    /// <summary>
    /// The encoded set: SID count (8 bytes; in the tagged format a format byte, 6 count bytes, the format byte again), then
    /// per uuid[/tag]: 16 uuid bytes, [tag as a varlen length + bytes], interval count (8), intervals as start and
    /// exclusive end (8 + 8), all little-endian.
    /// </summary>
    public byte[] Encode()
    {
        var tagged = HasTags;
        var writer = new PayloadWriter();
        var count = (ulong)intervals.Count;
        if (tagged)
        {
            writer.WriteByte(TaggedFormat).WriteBytes([(byte)count, (byte)(count >> 8), (byte)(count >> 16), (byte)(count >> 24), (byte)(count >> 32), (byte)(count >> 40)]).WriteByte(TaggedFormat);
        }
        else
        {
            writer.WriteUInt64(count);
        }

        foreach (var ((uuid, tag), ranges) in intervals)
        {
            writer.WriteBytes(Convert.FromHexString(uuid.Replace("-", "", StringComparison.Ordinal)));
            if (tagged)
            {
                // mysql::serialization's variable-length integer: a tag (at most 32 characters) fits one byte, length << 1.
                writer.WriteByte((byte)(tag.Length << 1)).WriteString(tag);
            }

            writer.WriteUInt64((ulong)ranges.Count);
            foreach (var (start, end) in ranges)
            {
                writer.WriteUInt64((ulong)start).WriteUInt64((ulong)end + 1);
            }
        }

        return writer.Written.ToArray();
    }

    public override string ToString()
    {
        var members = new List<string>();
        foreach (var ((uuid, tag), ranges) in intervals)
        {
            var text = string.Join(":", ranges.Select(r => r.Start == r.End
                ? r.Start.ToString(CultureInfo.InvariantCulture)
                : string.Create(CultureInfo.InvariantCulture, $"{r.Start}-{r.End}")));
            members.Add(tag.Length == 0 ? $"{uuid}:{text}" : $"{uuid}:{tag}:{text}");
        }

        return string.Join(",", members);
    }

    private void AddRange(string uuid, string tag, long start, long end)
    {
        if (!intervals.TryGetValue((uuid, tag), out var list))
        {
            intervals[(uuid, tag)] = list = [];
        }

        list.Add((start, end));
        list.Sort();
        var merged = new List<(long Start, long End)>();
        foreach (var range in list)
        {
            if (merged.Count > 0 && range.Start <= merged[^1].End + 1)
            {
                merged[^1] = (merged[^1].Start, Math.Max(merged[^1].End, range.End));
            }
            else
            {
                merged.Add(range);
            }
        }

        list.Clear();
        list.AddRange(merged);
    }

    private static BinlogException Invalid(string text) => new(BinlogErrorIds.InvalidGtid, $"'{text}' is not a MySQL GTID set (uuid:1-5:7,...).");
}
