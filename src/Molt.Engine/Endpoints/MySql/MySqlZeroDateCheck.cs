using System.Collections.Concurrent;
using System.Globalization;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using MySqlConnector;
using Serilog;
using static Molt.Engine.Endpoints.MySql.MySqlSyntax;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// Before anything is written, finds the NOT NULL DATE, DATETIME and TIMESTAMP columns that hold zero dates, which
/// NULL cannot replace: refused under <see cref="ZeroDateHandling.Null"/>, created nullable under
/// <see cref="ZeroDateHandling.DropNotNull"/>. Sentinel and Reject load every plan as it is, without reading a row.
/// </summary>
internal sealed class MySqlZeroDateCheck(EndpointAddress address, ZeroDateHandling handling, ILogger log)
{
    public async Task<IReadOnlyList<TablePlan>> ReviewAsync(IReadOnlyList<TablePlan> plans, TableHandling tableHandling, CancellationToken cancellationToken)
    {
        if (handling == ZeroDateHandling.DropNotNull && tableHandling != TableHandling.DropAndRecreate)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "DropNotNullNeedsRecreate",
                "-ZeroDateHandling DropNotNull changes how columns are created, and only -TableHandling DropAndRecreate creates them.",
                "Add -TableHandling DropAndRecreate, or choose -ZeroDateHandling Sentinel (zero dates load as '0001-01-01') or Reject.");
        }

        if (handling is not (ZeroDateHandling.Null or ZeroDateHandling.DropNotNull) || !plans.Any(p => NotNullDateColumns(p).Count > 0))
        {
            return plans;
        }

        var zeroed = await FindAsync(plans.Where(p => NotNullDateColumns(p).Count > 0).ToList(), cancellationToken).ConfigureAwait(false);
        var found = plans.Where(zeroed.ContainsKey).SelectMany(p => zeroed[p].Order(StringComparer.Ordinal).Select(c => $"{p.Source.Name}.{c}")).ToList();
        if (found.Count == 0)
        {
            return plans;
        }

        if (handling == ZeroDateHandling.Null)
        {
            throw new MoltException(MoltErrorKind.SchemaMismatch, "ZeroDatesInNotNullColumns",
                $"These NOT NULL columns hold zero dates ('0000-00-00', or a zero month or day), which -ZeroDateHandling Null would load as NULL " +
                $"and the target would refuse: {string.Join(", ", found)}. Nothing was written.",
                "Choose what they become with -ZeroDateHandling: DropNotNull (NULL, the columns created nullable; with -TableHandling DropAndRecreate), " +
                "Sentinel ('0001-01-01', '0001-01-01 00:00:00'), or Reject (each such row into _molt.fetch_exceptions, its table failed).")
            {
                Target = string.Join(", ", found),
            };
        }

        foreach (var column in found)
        {
            log.Warning("{Column:l} is NOT NULL on the source and holds zero dates: it is created nullable on the target and they load as NULL " +
                        "(-ZeroDateHandling DropNotNull)", column);
        }

        return plans.Select(plan => zeroed.TryGetValue(plan, out var columns)
            ? plan with { Columns = plan.Columns.Select(c => columns.Contains(c.Source.Name) ? c with { IsNullable = true } : c).ToList() }
            : plan).ToList();
    }

    /// <summary>
    /// The zero-date columns of each table. The scans are the review's whole cost and run before the first COPY, while
    /// the load's readers are not yet open, so tables, and key ranges of a large table, are scanned side by side on
    /// connections of their own, as many as a table's shards by default.
    /// </summary>
    private async Task<Dictionary<TablePlan, HashSet<string>>> FindAsync(List<TablePlan> plans, CancellationToken cancellationToken)
    {
        var probes = new List<(TablePlan Plan, KeyRange Range)>();
        if (plans.Any(p => SplitKey(p) is not null))
        {
            await using var connection = await MySqlConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
            foreach (var plan in plans)
            {
                var ranges = SplitKey(plan) is { } key
                    ? await MySqlSnapshot.IntegerRangesAsync(connection, plan.Source.Name, key, Scans, "", cancellationToken).ConfigureAwait(false)
                    : [KeyRange.All];
                probes.AddRange(ranges.Select(r => (plan, r)));
            }
        }
        else
        {
            probes.AddRange(plans.Select(p => (p, KeyRange.All)));
        }

        var found = new ConcurrentBag<(TablePlan Plan, HashSet<string> Columns)>();
        await Parallel.ForEachAsync(probes, new ParallelOptions { MaxDegreeOfParallelism = Scans, CancellationToken = cancellationToken }, async (probe, ct) =>
        {
            await using var connection = await MySqlConnections.OpenAsync(address, ct).ConfigureAwait(false);
            found.Add((probe.Plan, await ProbeAsync(connection, probe.Plan.Source.Name, probe.Range, NotNullDateColumns(probe.Plan), ct).ConfigureAwait(false)));
        }).ConfigureAwait(false);

        return found.Where(f => f.Columns.Count > 0).GroupBy(f => f.Plan)
            .ToDictionary(g => g.Key, g => g.SelectMany(f => f.Columns).ToHashSet(StringComparer.Ordinal));
    }

    private static int Scans => BulkLoadOptions.DefaultShardsPerTable;

    private static string? SplitKey(TablePlan plan) =>
        plan.Source.HasPrimaryKey && plan.Source.EstimatedRows >= SplitMinRows && plan.Source.Column(plan.Source.PrimaryKey[0]).Type.Family == ColumnTypeFamily.Integer
            ? plan.Source.PrimaryKey[0]
            : null;

    /// <summary>Below this many estimated rows a table is scanned whole: a second connection would cost more than it saves.</summary>
    internal const long SplitMinRows = 100_000;

    private static List<ColumnModel> NotNullDateColumns(TablePlan plan) =>
        plan.Columns.Where(c => !c.IsNullable && c.Source.Type.Family is ColumnTypeFamily.Date or ColumnTypeFamily.Timestamp).Select(c => c.Source).ToList();

    /// <summary>
    /// A TIMESTAMP holds no zero month or day (one written is stored as the zero date), so it is compared with the zero
    /// date as stored, which costs half of YEAR/MONTH/DAYOFMONTH: those convert every value to the session's time zone.
    /// </summary>
    private static string ZeroTest(ColumnModel column) =>
        column.Type.Name.Equals("timestamp", StringComparison.OrdinalIgnoreCase)
            ? $"({Quote(column.Name)} = '0000-00-00 00:00:00')"
            : $"(YEAR({Quote(column.Name)}) = 0 OR MONTH({Quote(column.Name)}) = 0 OR DAYOFMONTH({Quote(column.Name)}) = 0)";

    /// <summary>
    /// The columns that hold a zero date. Each query stops at the first row with one, which names the columns zero in
    /// that row; the rest are asked again, so a table without zero dates is read once, and each column found ends a read early.
    /// </summary>
    private static async Task<HashSet<string>> ProbeAsync(MySqlConnection connection, TableName table, KeyRange range, List<ColumnModel> columns, CancellationToken cancellationToken)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        var remaining = columns;
        while (remaining.Count > 0)
        {
            var tests = remaining.Select(ZeroTest).ToList();
            var where = WhereClause.Of(
                range.Lower is null ? null : $"{Quote(range.KeyColumn!)} >= {range.Lower}",
                range.Upper is null ? null : $"{Quote(range.KeyColumn!)} < {range.Upper}",
                string.Join(" OR ", tests));
            await using var command = new MySqlCommand($"SELECT {string.Join(", ", tests)} FROM {Quote(table)}{where} LIMIT 1", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                break;
            }

            var inRow = remaining.Where((_, i) => Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture) == 1).ToList();
            found.UnionWith(inRow.Select(c => c.Name));
            remaining = remaining.Except(inRow).ToList();
        }

        return found;
    }
}
