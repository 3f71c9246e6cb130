using Molt.Engine.Schema;

namespace Molt.Engine.Load;

/// <summary>Rows and bytes of one shard: the binary COPY stream's size, or the CSV text's.</summary>
internal sealed record ShardCopyResult(long Rows, long Bytes);

/// <summary>A source row a column writer refused, with its primary key (or its position in the shard when it has none).</summary>
internal sealed class ShardRowRejectedException(string rowKey, RowRejectedException inner)
    : Exception($"the row {rowKey} was rejected: {inner.Message}", inner)
{
    public string RowKey { get; } = rowKey;

    public RowRejectedException Rejection { get; } = inner;

    /// <summary>The rejection of the reader's current row, named by its primary key (or its position among <paramref name="rowsBefore"/>).</summary>
    public static ShardRowRejectedException At(TablePlan plan, System.Data.Common.DbDataReader reader, long rowsBefore, RowRejectedException rejection)
    {
        var keys = plan.KeyOrdinals;
        var key = keys.Count == 0
            ? $"row {rowsBefore + 1} of the shard"
            : string.Join(", ", keys.Select(k => $"{plan.Columns[k].Source.Name}={reader.GetValue(k)}"));
        return new ShardRowRejectedException(key, rejection);
    }
}
