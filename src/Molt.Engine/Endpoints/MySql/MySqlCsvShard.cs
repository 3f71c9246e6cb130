using System.Text;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using MySqlConnector;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>One column of a shard: how the reader yields its value, and what the value becomes on the target.</summary>
internal sealed record MySqlShardColumn(MySqlValueRead Read, MySqlColumnConverter Converter)
{
    /// <summary>The column as a binary COPY writer of the reader's current row.</summary>
    public ColumnWriter Writer() =>
        (reader, ordinal, importer, cancellationToken) => Converter.WriteAsync(Read((MySqlDataReader)reader, ordinal), importer, cancellationToken);

    public string? Csv(MySqlDataReader reader, int ordinal) => Converter.ToCsv(Read(reader, ordinal));
}

/// <summary>MySQL/MariaDB rows written as CSV, one converter per column; a refused value names its row by primary key.</summary>
internal sealed class MySqlCsvShard(MySqlDataReader reader, TablePlan plan, IReadOnlyList<MySqlShardColumn> columns, Func<ValueTask> release)
    : CsvShard
{
    private const int ProgressEveryRows = 8192;

    public override async Task<long> WriteToAsync(TextWriter destination, Action<long>? progress, CancellationToken cancellationToken)
    {
        var rows = 0L;
        var line = new StringBuilder();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            line.Clear();
            for (var i = 0; i < columns.Count; i++)
            {
                if (i > 0)
                {
                    line.Append(',');
                }

                try
                {
                    CsvField.Append(line, columns[i].Csv(reader, i));
                }
                catch (RowRejectedException ex)
                {
                    throw ShardRowRejectedException.At(plan, reader, rows, ex);
                }
            }

            line.Append('\n');
            await destination.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            if (++rows % ProgressEveryRows == 0)
            {
                progress?.Invoke(rows);
            }
        }

        return rows;
    }

    public override async ValueTask DisposeAsync()
    {
        await reader.DisposeAsync().ConfigureAwait(false);
        await release().ConfigureAwait(false);
    }
}
