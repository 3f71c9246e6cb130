using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Molt.Engine.Schema;
using Serilog;

namespace Molt.Engine.Verify;

/// <summary>
/// Compares source and target tables row by row: both sides stream in primary-key order and are merged, so memory
/// stays bounded however large the tables; a table without a primary key is compared as a multiset of row hashes.
/// </summary>
internal sealed class DataComparer(VerifySide source, VerifySide target, CompareOptions options, ILogger log)
{
    public async Task<IReadOnlyList<TableComparison>> CompareAsync(CompareCallbacks callbacks, CancellationToken cancellationToken)
    {
        var tables = await source.Catalog.ReadTablesAsync(options.Filter, cancellationToken).ConfigureAwait(false);
        if (tables.Count == 0)
        {
            throw new MoltException(MoltErrorKind.NotFound, "NoTablesMatched", $"No source table matches {options.Filter}.",
                "Check -Schema, -Table and -ExcludeTable (wildcards such as 'film*' are allowed; names are matched without regard to case).");
        }

        var filters = new RowFilters(options.Where);
        filters.EnsureEachNamesOneOf(tables.Select(t => t.Name).ToList());
        var targetNames = tables.ToDictionary(t => t.Name, t => TargetName(t.Name));
        var targetSchemas = targetNames.Values.Select(n => n.Schema).Distinct().ToList();
        var targetTables = (await target.Catalog.ReadTablesAsync(new TableFilter(targetSchemas), cancellationToken).ConfigureAwait(false))
            .ToDictionary(t => t.Name);
        var results = new ConcurrentBag<TableComparison>();
        await Parallel.ForEachAsync(tables,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.TableConcurrency), CancellationToken = cancellationToken },
            async (table, ct) =>
            {
                var clock = Stopwatch.StartNew();
                var targetName = targetNames[table.Name];
                TableComparison result;
                if (Find(targetTables.Values, targetName) is not { } targetTable)
                {
                    result = new TableComparison(table.Name, targetName, 0, 0, 0, 0, 0, ComparisonStatus.Error, clock.Elapsed, $"the target has no table {targetName}");
                }
                else
                {
                    result = await CompareTableOrErrorAsync(table, targetTable, filters.For(table.Name), callbacks, ct).ConfigureAwait(false) with { Duration = clock.Elapsed };
                }

                log.Information("{Table}: {Status} ({SourceRows} source rows, {Missing} missing, {Extra} extra, {Mismatched} mismatched)",
                    table.Name, result.Status, result.SourceRows, result.Missing, result.Extra, result.Mismatched);
                results.Add(result);
                callbacks.TableCompared?.Invoke(result);
            }).ConfigureAwait(false);
        return results.OrderBy(r => r.Table).ToList();
    }

    /// <summary>A table that cannot be compared (a value or a read that fails) is that table's Error: the others are still compared.</summary>
    private async Task<TableComparison> CompareTableOrErrorAsync(TableModel table, TableModel targetTable, string? rowFilter, CompareCallbacks callbacks,
        CancellationToken cancellationToken)
    {
        try
        {
            return await CompareTableAsync(table, targetTable, rowFilter, callbacks, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            log.Error(ex, "{Table}: the comparison failed", table.Name);
            return new TableComparison(table.Name, targetTable.Name, 0, 0, 0, 0, 0, ComparisonStatus.Error, TimeSpan.Zero,
                $"the comparison failed: {ex.Message}");
        }
    }

    private TableName TargetName(TableName name) => source.Syntax == SqlSyntax.MySql ? new TableName(options.TargetSchema, name.Name) : name;

    private async Task<TableComparison> CompareTableAsync(TableModel table, TableModel targetTable, string? rowFilter, CompareCallbacks callbacks,
        CancellationToken cancellationToken)
    {
        var key = table.PrimaryKey.Select(table.Column).ToList();
        var columns = table.CopiedColumns.Where(c => Find(targetTable, c.Name) is not null && !table.PrimaryKey.Contains(c.Name)).ToList();
        var lacking = table.CopiedColumns.Where(c => Find(targetTable, c.Name) is null).Select(c => c.Name).ToList();
        var note = lacking.Count == 0 ? null : $"the target lacks column(s) {string.Join(", ", lacking)}";
        string? targetFilter = null;
        if (rowFilter is not null)
        {
            if (await source.RowFilterErrorAsync(table.Name, rowFilter, cancellationToken).ConfigureAwait(false) is { } sourceError)
            {
                return new TableComparison(table.Name, targetTable.Name, 0, 0, 0, 0, 0, ComparisonStatus.Error, TimeSpan.Zero,
                    $"the source cannot evaluate -Where {rowFilter}: {sourceError}");
            }

            // The load read only the source's matching rows; filtering the target too keeps rows it holds beyond them
            // (other slices loaded into the same table) from counting as extra, when the target can evaluate the predicate.
            var targetError = await target.RowFilterErrorAsync(targetTable.Name, rowFilter, cancellationToken).ConfigureAwait(false);
            targetFilter = targetError is null ? rowFilter : null;
            note = Join(note, targetError is null ? $"rows where {rowFilter}, on both sides"
                : $"rows where {rowFilter}, on the source only (the target cannot evaluate it: {targetError}): every target row counts");
        }

        log.Debug("{Table}: comparing with {TargetTable}, source rows {SourceFilter:l}, target rows {TargetFilter:l}", table.Name, targetTable.Name,
            rowFilter is null ? "all" : $"where {rowFilter}", targetFilter is null ? "all" : $"where {targetFilter}");
        var targetKey = key.Select(k => Find(targetTable, k.Name) ?? targetTable.Column(k.Name)).ToList();
        var targetValueColumns = columns.Select(c => Find(targetTable, c.Name)!).ToList();
        var kinds = columns.Select(Kind).ToList();
        var keyKinds = key.Select(Kind).ToList();
        // Two PostgreSQL sides compare each value's text form, which is exact for every type they share.
        var asText = source.Syntax != SqlSyntax.MySql && target.Syntax != SqlSyntax.MySql;
        var counts = new Counts();
        var sink = new DifferenceSink(table.Name, columns.Select(c => c.Name).ToList(), options, callbacks, counts);
        var (plan, slowReason) = source.ReadsBinaryCopy && target.ReadsBinaryCopy ? BinaryRowPlan.For(key, targetKey, columns, targetValueColumns)
            : (null, "a side is not PostgreSQL");
        if (plan is not null)
        {
            log.Debug("{Table}: comparing binary COPY rows as bytes", table.Name);
            await CompareBinaryRowsAsync(plan, table, targetTable, key, columns, targetKey, targetValueColumns, (rowFilter, targetFilter), kinds, keyKinds,
                counts, sink, callbacks, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            log.Debug("{Table}: comparing text forms ({Reason})", table.Name, slowReason);
            await CompareTextFormsAsync(table, targetTable, key, columns, targetKey, targetValueColumns, (rowFilter, targetFilter), kinds, keyKinds, asText,
                counts, sink, callbacks, cancellationToken).ConfigureAwait(false);
            if (key.Count == 0)
            {
                note = Join(note, "no primary key: compared as a multiset of row hashes");
            }
        }

        if (options.Live && sink.Candidates.Count > 0)
        {
            await RecheckAsync(table, targetTable.Name, key, targetKey, columns, targetValueColumns, kinds, asText, (rowFilter, targetFilter), sink, cancellationToken)
                .ConfigureAwait(false);
        }

        sink.Flush();
        var different = counts.Missing + counts.Extra + counts.Mismatched > 0 || lacking.Count > 0;
        return new TableComparison(table.Name, targetTable.Name, counts.SourceRows, counts.TargetRows, counts.Missing, counts.Extra, counts.Mismatched,
            different ? ComparisonStatus.Different : ComparisonStatus.Equal, TimeSpan.Zero, note);
    }

    /// <summary>The fast path (see <see cref="BinaryRowMerge"/>): two PostgreSQL sides' binary COPY rows compared as bytes.</summary>
    private async Task CompareBinaryRowsAsync(BinaryRowPlan plan, TableModel table, TableModel targetTable, List<ColumnModel> key, List<ColumnModel> columns,
        List<ColumnModel> targetKey, List<ColumnModel> targetValueColumns, (string? Source, string? Target) rowFilters, List<ColumnKind> kinds,
        List<ColumnKind> keyKinds, Counts counts, DifferenceSink sink, CompareCallbacks callbacks, CancellationToken cancellationToken)
    {
        var merge = new BinaryRowMerge(plan, key.Select(k => k.Name).ToList(), kinds, keyKinds, options.FloatTolerance,
            (fromSource, keyValues, ct) => fromSource
                ? ReadValuesAsync(source, table.Name, key, columns, rowFilters.Source, keyValues, kinds, ct)
                : ReadValuesAsync(target, targetTable.Name, targetKey, targetValueColumns, rowFilters.Target, keyValues, kinds, ct));
        await using var sourceRows = await source.OpenBinaryOrderedAsync(table.Name, key, columns, rowFilters.Source, cancellationToken).ConfigureAwait(false);
        await using var targetRows = await target.OpenBinaryOrderedAsync(targetTable.Name, targetKey, targetValueColumns, rowFilters.Target, cancellationToken)
            .ConfigureAwait(false);
        await merge.RunAsync(sourceRows, targetRows, counts, sink, rows => callbacks.Progress?.Invoke(new CompareProgress(table.Name, rows, table.EstimatedRows)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The slow path: both sides' values read (PostgreSQL's as text, MySQL's typed) and normalised before they are compared.</summary>
    private async Task CompareTextFormsAsync(TableModel table, TableModel targetTable, List<ColumnModel> key, List<ColumnModel> columns,
        List<ColumnModel> targetKey, List<ColumnModel> targetValueColumns, (string? Source, string? Target) rowFilters, List<ColumnKind> kinds,
        List<ColumnKind> keyKinds, bool asText, Counts counts, DifferenceSink sink, CompareCallbacks callbacks, CancellationToken cancellationToken)
    {
        await using var sourceRows = await source.OpenOrderedAsync(table.Name, key, columns, asText, rowFilters.Source, cancellationToken).ConfigureAwait(false);
        await using var targetRows = await target.OpenOrderedAsync(targetTable.Name, targetKey, targetValueColumns, asText, rowFilters.Target, cancellationToken)
            .ConfigureAwait(false);
        if (key.Count == 0)
        {
            await CompareAsMultisetAsync(sourceRows, targetRows, kinds, counts, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await MergeAsync(table, sourceRows, targetRows, key, kinds, keyKinds, counts, sink, callbacks, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One row's values by key, as the slow path reads and normalises them; null when that side has no such row.</summary>
    private static async Task<string?[]?> ReadValuesAsync(VerifySide side, TableName table, List<ColumnModel> key, List<ColumnModel> columns,
        string? rowFilter, object?[] keyValues, List<ColumnKind> kinds, CancellationToken cancellationToken) =>
        await side.ReadRowAsync(table, key, columns, asText: true, rowFilter, keyValues, cancellationToken).ConfigureAwait(false) is { } row
            ? Enumerable.Range(0, kinds.Count).Select(i => ValueNormalizer.Normalize(row[key.Count + i], kinds[i])).ToArray()
            : null;

    private async Task MergeAsync(TableModel table, DbDataReader sourceRows, DbDataReader targetRows, List<ColumnModel> key,
        List<ColumnKind> kinds, IReadOnlyList<ColumnKind> keyKinds, Counts counts, DifferenceSink sink, CompareCallbacks callbacks,
        CancellationToken cancellationToken)
    {
        var keyCount = key.Count;
        var hasSource = await sourceRows.ReadAsync(cancellationToken).ConfigureAwait(false);
        var hasTarget = await targetRows.ReadAsync(cancellationToken).ConfigureAwait(false);
        while (hasSource || hasTarget)
        {
            var order = !hasSource ? 1 : !hasTarget ? -1 : KeyComparer.Compare(sourceRows, targetRows, key);
            if (order < 0)
            {
                counts.SourceRows++;
                counts.Missing++;
                sink.Add(DifferenceKind.Missing, KeyText(sourceRows, key, keyKinds), Row(sourceRows, keyCount, kinds), null, KeyValues(sourceRows, keyCount));
                hasSource = await sourceRows.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (order > 0)
            {
                counts.TargetRows++;
                counts.Extra++;
                sink.Add(DifferenceKind.Extra, KeyText(targetRows, key, keyKinds), null, Row(targetRows, keyCount, kinds), KeyValues(targetRows, keyCount));
                hasTarget = await targetRows.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                counts.SourceRows++;
                counts.TargetRows++;
                if (!SameAsRead(sourceRows, targetRows, keyCount, kinds.Count))
                {
                    var sourceValues = Row(sourceRows, keyCount, kinds);
                    var targetValues = Row(targetRows, keyCount, kinds);
                    if (!SameNormalised(sourceValues, targetValues, kinds))
                    {
                        counts.Mismatched++;
                        sink.Add(DifferenceKind.Mismatch, KeyText(sourceRows, key, keyKinds), sourceValues, targetValues, KeyValues(sourceRows, keyCount));
                    }
                }

                hasSource = await sourceRows.ReadAsync(cancellationToken).ConfigureAwait(false);
                hasTarget = await targetRows.ReadAsync(cancellationToken).ConfigureAwait(false);
            }

            if ((counts.SourceRows + counts.TargetRows) % 20_000 == 0)
            {
                callbacks.Progress?.Invoke(new CompareProgress(table.Name, counts.SourceRows, table.EstimatedRows));
            }
        }
    }

    /// <summary>Equal as read, value by value (see <see cref="RawValues"/>): then equal once normalised, and no string is built.</summary>
    private static bool SameAsRead(DbDataReader source, DbDataReader target, int offset, int count)
    {
        for (var i = offset; i < offset + count; i++)
        {
            if (!RawValues.Same(source.GetValue(i), target.GetValue(i)))
            {
                return false;
            }
        }

        return true;
    }

    private bool SameNormalised(string?[] source, string?[] target, List<ColumnKind> kinds)
    {
        for (var i = 0; i < kinds.Count; i++)
        {
            if (!ValueNormalizer.Same(source[i], target[i], kinds[i], options.FloatTolerance))
            {
                return false;
            }
        }

        return true;
    }

    private static async Task CompareAsMultisetAsync(DbDataReader sourceRows, DbDataReader targetRows, IReadOnlyList<ColumnKind> kinds, Counts counts,
        CancellationToken cancellationToken)
    {
        var balance = new Dictionary<UInt128, long>();
        while (await sourceRows.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            counts.SourceRows++;
            var hash = RowHash(Row(sourceRows, 0, kinds));
            balance[hash] = balance.GetValueOrDefault(hash) + 1;
        }

        while (await targetRows.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            counts.TargetRows++;
            var hash = RowHash(Row(targetRows, 0, kinds));
            balance[hash] = balance.GetValueOrDefault(hash) - 1;
        }

        counts.Missing = balance.Values.Where(v => v > 0).Sum();
        counts.Extra = -balance.Values.Where(v => v < 0).Sum();
    }

    /// <summary>Live mode: reads each differing row again from both sides, a few times after a delay, and keeps only what stays different.</summary>
    private async Task RecheckAsync(TableModel table, TableName targetName, List<ColumnModel> key, IReadOnlyList<ColumnModel> targetKey,
        IReadOnlyList<ColumnModel> columns, IReadOnlyList<ColumnModel> targetColumns, List<ColumnKind> kinds, bool asText,
        (string? Source, string? Target) rowFilters, DifferenceSink sink, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < options.LiveRetries && sink.Candidates.Count > 0; attempt++)
        {
            await Task.Delay(options.LiveDelay, cancellationToken).ConfigureAwait(false);
            foreach (var candidate in sink.Candidates.ToList())
            {
                var sourceRow = await source.ReadRowAsync(table.Name, key, columns, asText, rowFilters.Source, candidate.KeyValues, cancellationToken)
                    .ConfigureAwait(false);
                var targetRow = await target.ReadRowAsync(targetName, targetKey, targetColumns, asText, rowFilters.Target, candidate.KeyValues, cancellationToken)
                    .ConfigureAwait(false);
                var resolved = (sourceRow, targetRow) switch
                {
                    (null, null) => true,
                    ({ } s, { } t) => Enumerable.Range(0, kinds.Count).All(i => ValueNormalizer.Same(
                        ValueNormalizer.Normalize(s[key.Count + i], kinds[i]), ValueNormalizer.Normalize(t[key.Count + i], kinds[i]), kinds[i], options.FloatTolerance)),
                    _ => false,
                };
                if (resolved)
                {
                    sink.Resolve(candidate);
                }
            }
        }
    }

    /// <summary>
    /// The target's table of that name; failing that, the one name differing only in case (a load with
    /// -IdentifierCase Lower), when exactly one does.
    /// </summary>
    private static TableModel? Find(IEnumerable<TableModel> tables, TableName name) =>
        tables.FirstOrDefault(t => t.Name == name) is { } exact ? exact
        : tables.Where(t => t.Name.Schema == name.Schema && string.Equals(t.Name.Name, name.Name, StringComparison.OrdinalIgnoreCase)).ToList() is [var only] ? only
        : null;

    /// <summary>The target column of that name, or the one differing only in case.</summary>
    private static ColumnModel? Find(TableModel table, string column) =>
        table.Columns.FirstOrDefault(c => c.Name == column) is { } exact ? exact
        : table.Columns.Where(c => string.Equals(c.Name, column, StringComparison.OrdinalIgnoreCase)).ToList() is [var only] ? only
        : null;

    private ColumnKind Kind(ColumnModel column) => new(
        column.Type.Family == ColumnTypeFamily.Json,
        column.Type.Family == ColumnTypeFamily.Float,
        column.Type.Family == ColumnTypeFamily.Bit ? column.Type.Length ?? column.Type.Precision : null,
        column.Type.Family == ColumnTypeFamily.Date,
        IsDecimal: VerifySide.IsDecimal(column),
        ZeroDateAsSentinel: options.ZeroDates == ZeroDateHandling.Sentinel,
        // The family says floating point; the width is the exact type's.
        IsSingle: column.Type.Family == ColumnTypeFamily.Float && column.Type.Name is "float" or "real");

    private static string?[] Row(DbDataReader reader, int offset, IReadOnlyList<ColumnKind> kinds)
    {
        var values = new string?[kinds.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.IsDBNull(offset + i) ? null : ValueNormalizer.Normalize(reader.GetValue(offset + i), kinds[i]);
        }

        return values;
    }

    private static object?[] KeyValues(DbDataReader reader, int keyCount) => Enumerable.Range(0, keyCount).Select(reader.GetValue).ToArray();

    private static string KeyText(DbDataReader reader, IReadOnlyList<ColumnModel> key, IReadOnlyList<ColumnKind> kinds) =>
        string.Join(", ", key.Select((k, i) => $"{k.Name}={ValueNormalizer.Normalize(reader.GetValue(i), kinds[i])}"));

    /// <summary>Each value length-prefixed (NULL as length -1), so that no two rows encode alike whatever bytes their values hold.</summary>
    private static UInt128 RowHash(string?[] values)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var value in values)
        {
            var bytes = value is null ? [] : Encoding.UTF8.GetBytes(value);
            BinaryPrimitives.WriteInt32LittleEndian(length, value is null ? -1 : bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }

        var digest = hash.GetHashAndReset();
        return new UInt128(BitConverter.ToUInt64(digest, 0), BitConverter.ToUInt64(digest, 8));
    }

    private static string? Join(string? first, string second) => first is null ? second : $"{first}; {second}";

    internal sealed class Counts
    {
        public long SourceRows { get; set; }

        public long TargetRows { get; set; }

        public long Missing { get; set; }

        public long Extra { get; set; }

        public long Mismatched { get; set; }
    }
}
