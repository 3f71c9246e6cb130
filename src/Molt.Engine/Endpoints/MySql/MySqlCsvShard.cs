using System.Data.Common;
using System.Text;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Load;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>MySQL/MariaDB rows written as CSV, one formatter per column; a refused value names its row by primary key.</summary>
internal sealed class MySqlCsvShard(DbDataReader reader, TablePlan plan, IReadOnlyList<Func<DbDataReader, int, string?>> values, Func<ValueTask> release)
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
            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    line.Append(',');
                }

                try
                {
                    CsvField.Append(line, reader.IsDBNull(i) ? null : values[i](reader, i));
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
