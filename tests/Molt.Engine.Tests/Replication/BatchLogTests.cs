using Molt.Engine.Replication;
using Molt.Engine.Schema;
using static Molt.Engine.Tests.Replication.Apply;

namespace Molt.Engine.Tests.Replication;

public sealed class BatchLogTests
{
    private static readonly ChangeTable Table = new(new TableName("s", "t"), ["id", "v", "blob"], ["id"]);

    private static RowChange Row(int i) => new(Table, RowChangeKind.Update)
    {
        Key = [I(i)],
        OldKey = i % 3 == 0 ? [I(i - 1)] : null,
        New = Image(I(i), i % 2 == 0 ? null : $"value {i} é", Unchanged),
        Old = i % 5 == 0 ? Image(I(i), "old", new byte[] { 0, 255, (byte)i }) : null,
    };

    [Fact]
    public async Task A_log_past_its_memory_bound_spills_to_a_file_replays_every_change_in_order_and_deletes_the_file_when_cleared()
    {
        using var log = new BatchLog(memoryBytes: 4096);
        var written = Enumerable.Range(1, 2000).Select(i => (Change)Row(i)).Append(new TruncateChange([new TableName("s", "t")], true)).ToList();
        foreach (var change in written)
        {
            log.Add(change, BatchLog.Size(change));
        }

        var path = log.SpillPath;
        Assert.NotNull(path);
        Assert.True(File.Exists(path));
        var replayed = new List<Change>();
        await foreach (var change in log.ReplayAsync(default))
        {
            replayed.Add(change);
        }

        Assert.Equal(written.Count, replayed.Count);
        for (var i = 0; i < written.Count; i++)
        {
            Assert.Equal(Describe(written[i]), Describe(replayed[i]));
        }

        Assert.Same(Table, ((RowChange)replayed[0]).Table);
        log.Clear();
        Assert.False(File.Exists(path));
        Assert.Null(log.SpillPath);
    }

    [Fact]
    public async Task A_log_cut_back_to_a_mark_replays_only_what_came_before_it_in_memory_and_on_disk()
    {
        foreach (var bound in new[] { 1L << 30, 1024L })
        {
            using var log = new BatchLog(bound);
            for (var i = 1; i <= 100; i++)
            {
                log.Add(Row(i), BatchLog.Size(Row(i)));
            }

            var mark = log.Position;
            for (var i = 101; i <= 150; i++)
            {
                log.Add(Row(i), BatchLog.Size(Row(i)));
            }

            log.TruncateTo(mark);
            log.Add(Row(999), 10);
            var keys = new List<string>();
            await foreach (var change in log.ReplayAsync(default))
            {
                keys.Add((string)((RowChange)change).Key[0]!);
            }

            Assert.Equal(Enumerable.Range(1, 100).Select(i => I(i)).Append("999"), keys);
        }
    }

    [Fact]
    public async Task The_values_a_MySQL_source_converts_to_come_back_from_the_spill_file_as_they_went_in()
    {
        using var log = new BatchLog(memoryBytes: 0);
        object?[] values =
        [
            (short)-5, 7, long.MinValue, ulong.MaxValue, 1.5m, 0.1f, 0.2d, true, new byte[] { 0, 1 },
            new DateTime(2024, 2, 29, 1, 2, 3, DateTimeKind.Utc).AddTicks(10), new DateTime(1, 1, 1), new System.Collections.BitArray([true, false, true]),
            new NpgsqlTypes.NpgsqlInterval(0, 0, -3_020_399_000_000), "text", null,
        ];
        var columns = values.Select((_, i) => $"c{i}").ToList();
        var table = new ChangeTable(new TableName("s", "mysql"), columns, ["c0"]);
        var change = new RowChange(table, RowChangeKind.Insert) { New = new RowImage(values, values.Select(_ => ColumnValueState.Present).ToList()), Key = [values[0]] };
        log.Add(change, BatchLog.Size(change));
        Assert.NotNull(log.SpillPath);

        var replayed = new List<Change>();
        await foreach (var read in log.ReplayAsync(default))
        {
            replayed.Add(read);
        }

        var back = Assert.IsType<RowChange>(Assert.Single(replayed)).New!.Values;
        Assert.Equal(values.Select(v => v?.GetType()), back.Select(v => v?.GetType()));
        Assert.Equal(values.Select(Text), back.Select(Text));
        Assert.Equal(DateTimeKind.Utc, ((DateTime)back[9]!).Kind);
    }

    private static string Text(object? value) => value switch
    {
        null => "null",
        byte[] b => Convert.ToHexString(b),
        System.Collections.BitArray bits => string.Concat(bits.Cast<bool>().Select(b => b ? '1' : '0')),
        NpgsqlTypes.NpgsqlInterval interval => $"{interval.Months} {interval.Days} {interval.Time}",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };

    private static string I(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Describe(Change change) => change switch
    {
        RowChange r => string.Join("|", r.Kind, Values(r.Key), Values(r.OldKey), Values(r.New?.Values), string.Join(",", r.New?.States ?? []), Values(r.Old?.Values)),
        TruncateChange t => $"truncate {string.Join(",", t.Tables)} {t.Cascade}",
        _ => change.ToString()!,
    };

    private static string Values(IReadOnlyList<object?>? values) =>
        values is null ? "none" : string.Join(",", values.Select(v => v switch { null => "null", byte[] b => Convert.ToHexString(b), _ => v.ToString() }));
}
