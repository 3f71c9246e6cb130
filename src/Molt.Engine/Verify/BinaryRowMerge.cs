namespace Molt.Engine.Verify;

/// <summary>
/// The fast path's merge: both sides' binary COPY rows in key order, compared as bytes. Only the key is decoded (to
/// name a differing row), and only a value whose equal forms may differ in bytes is decoded, when its bytes differ.
/// What a reported row holds is read again by key through the slow path, so it is shown exactly as the slow path shows it.
/// </summary>
/// <param name="readValues">A side's (true: the source's) normalised values of the row with that key, or null when it has none.</param>
internal sealed class BinaryRowMerge(BinaryRowPlan plan, IReadOnlyList<string> keyNames, IReadOnlyList<ColumnKind> kinds, IReadOnlyList<ColumnKind> keyKinds,
    double floatTolerance, Func<bool, object?[], CancellationToken, Task<string?[]?>> readValues)
{
    private readonly int keyCount = plan.Keys.Count;

    public async Task RunAsync(BinaryCopyRows sourceRows, BinaryCopyRows targetRows, DataComparer.Counts counts, DifferenceSink sink,
        Action<long> progress, CancellationToken cancellationToken)
    {
        var hasSource = await sourceRows.ReadAsync(cancellationToken).ConfigureAwait(false);
        var hasTarget = await targetRows.ReadAsync(cancellationToken).ConfigureAwait(false);
        while (hasSource || hasTarget)
        {
            var order = !hasSource ? 1 : !hasTarget ? -1 : CompareKeys(sourceRows, targetRows);
            if (order < 0)
            {
                counts.SourceRows++;
                counts.Missing++;
                await AddAsync(sink, DifferenceKind.Missing, sourceRows, cancellationToken).ConfigureAwait(false);
                hasSource = await sourceRows.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (order > 0)
            {
                counts.TargetRows++;
                counts.Extra++;
                await AddAsync(sink, DifferenceKind.Extra, targetRows, cancellationToken).ConfigureAwait(false);
                hasTarget = await targetRows.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                counts.SourceRows++;
                counts.TargetRows++;
                if (!sourceRows.FieldsFrom(keyCount).SequenceEqual(targetRows.FieldsFrom(keyCount)) && !SameValues(sourceRows, targetRows))
                {
                    counts.Mismatched++;
                    await AddAsync(sink, DifferenceKind.Mismatch, sourceRows, cancellationToken).ConfigureAwait(false);
                }

                hasSource = await sourceRows.ReadAsync(cancellationToken).ConfigureAwait(false);
                hasTarget = await targetRows.ReadAsync(cancellationToken).ConfigureAwait(false);
            }

            if ((counts.SourceRows + counts.TargetRows) % 20_000 == 0)
            {
                progress(counts.SourceRows);
            }
        }
    }

    private int CompareKeys(BinaryCopyRows left, BinaryCopyRows right)
    {
        for (var i = 0; i < keyCount; i++)
        {
            var order = BinaryValues.CompareKey(left.Field(i), right.Field(i), plan.Keys[i]);
            if (order != 0)
            {
                return order;
            }
        }

        return 0;
    }

    /// <summary>Rows whose bytes differ: equal still when each differing value is of a decoded kind and equal once decoded.</summary>
    private bool SameValues(BinaryCopyRows source, BinaryCopyRows target)
    {
        for (var i = 0; i < plan.Values.Count; i++)
        {
            var field = keyCount + i;
            if (source.IsNull(field) || target.IsNull(field))
            {
                if (source.IsNull(field) != target.IsNull(field))
                {
                    return false;
                }

                continue;
            }

            var left = source.Field(field);
            var right = target.Field(field);
            if (left.SequenceEqual(right))
            {
                continue;
            }

            if (plan.Values[i] == BinaryValueKind.Exact
                || !ValueNormalizer.Same(BinaryValues.Normalized(left, plan.Values[i], kinds[i]), BinaryValues.Normalized(right, plan.Values[i], kinds[i]),
                    kinds[i], floatTolerance))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Decodes the key, and reads the row's values from both sides only when the sink will show them.</summary>
    private async Task AddAsync(DifferenceSink sink, string kind, BinaryCopyRows rows, CancellationToken cancellationToken)
    {
        if (!sink.HasRoom)
        {
            return;
        }

        var keyValues = new object?[keyCount];
        for (var i = 0; i < keyCount; i++)
        {
            keyValues[i] = BinaryValues.KeyValue(rows.Field(i), plan.Keys[i]);
        }

        var keyText = string.Join(", ", keyNames.Select((name, i) => $"{name}={ValueNormalizer.Normalize(keyValues[i], keyKinds[i])}"));
        string?[]? sourceValues = null;
        string?[]? targetValues = null;
        if (sink.ShowsValues)
        {
            sourceValues = kind == DifferenceKind.Extra ? null : await ReadAsync(true, keyValues, cancellationToken).ConfigureAwait(false);
            targetValues = kind == DifferenceKind.Missing ? null : await ReadAsync(false, keyValues, cancellationToken).ConfigureAwait(false);
        }
        else if (kind == DifferenceKind.Mismatch)
        {
            (sourceValues, targetValues) = (new string?[kinds.Count], new string?[kinds.Count]);
        }

        sink.Add(kind, keyText, sourceValues, targetValues, keyValues);
    }

    /// <summary>A row gone since the COPY read it (the source is being written) shows as all NULL.</summary>
    private async Task<string?[]> ReadAsync(bool source, object?[] keyValues, CancellationToken cancellationToken) =>
        await readValues(source, keyValues, cancellationToken).ConfigureAwait(false) ?? new string?[kinds.Count];
}
