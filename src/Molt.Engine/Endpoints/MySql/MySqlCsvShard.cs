using System.Data.Common;
using Molt.Engine.Load;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>MySQL/MariaDB rows written as CSV, one formatter per column.</summary>
internal sealed class MySqlCsvShard(DbDataReader reader, IReadOnlyList<Func<DbDataReader, int, string?>> values, Func<ValueTask> release) : CsvShard
{
    public override async Task<long> WriteToAsync(TextWriter destination, CancellationToken cancellationToken)
    {
        var rows = 0L;
        var line = new System.Text.StringBuilder();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            line.Clear();
            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    line.Append(',');
                }

                var value = await reader.IsDBNullAsync(i, cancellationToken).ConfigureAwait(false) ? null : values[i](reader, i);
                CsvField.Append(line, value);
            }

            line.Append('\n');
            await destination.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            rows++;
        }

        return rows;
    }

    public override async ValueTask DisposeAsync()
    {
        await reader.DisposeAsync().ConfigureAwait(false);
        await release().ConfigureAwait(false);
    }
}
