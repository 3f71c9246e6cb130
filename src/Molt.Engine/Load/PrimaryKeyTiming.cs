using System.Globalization;
using Molt.Engine.Schema;

namespace Molt.Engine.Load;

/// <summary>
/// Whether a table Molt creates gets its primary key with the table or once its rows are in, and why (shown by -WhatIf
/// and in each table's result). Building the key after the rows sorts them once instead of maintaining the index row by
/// row through the COPY; for a small table the extra statement saves nothing, so by default only tables of at least
/// <see cref="BulkLoadOptions.DeferPrimaryKeyMinRows"/> estimated rows defer it.
/// </summary>
internal sealed class PrimaryKeyTiming(BulkLoadOptions options, ITargetDialect dialect, bool resuming)
{
    /// <summary>From where deferring the key pays on PostgreSQL (measured in bench/RESULTS.md, issue 17).</summary>
    public const long DefaultMinRows = 100_000;

    /// <summary>The choice for <paramref name="plan"/>; null when Molt does not create the table or it has no key.</summary>
    public PrimaryKeyChoice? Choose(TablePlan plan)
    {
        if (options.TableHandling != TableHandling.DropAndRecreate || plan.PrimaryKey.Count == 0)
        {
            return null;
        }

        var choice = Decide(plan.Source.EstimatedRows);
        // A resumed run's first attempt may have created the table without its key (another -DeferPrimaryKey, or other
        // estimates): the key is added after the rows wherever it is missing, which costs nothing where it is there.
        return resuming && dialect.CanDeferPrimaryKey && !choice.AfterLoad
            ? choice with { AddedIfMissing = true, Reason = choice.Reason + "; added after the rows if the run's first attempt created the table without it" }
            : choice;
    }

    private PrimaryKeyChoice Decide(long estimatedRows)
    {
        if (!dialect.CanDeferPrimaryKey)
        {
            return new PrimaryKeyChoice(false, $"created with the table: {dialect.DisplayName} stores a table's rows by its primary key");
        }

        if (options.DeferPrimaryKey is { } given)
        {
            return given
                ? new PrimaryKeyChoice(true, "built after the rows (-DeferPrimaryKey)")
                : new PrimaryKeyChoice(false, "created with the table (-DeferPrimaryKey:$false)");
        }

        var rows = estimatedRows.ToString("N0", CultureInfo.InvariantCulture);
        var threshold = options.DeferPrimaryKeyMinRows.ToString("N0", CultureInfo.InvariantCulture);
        return estimatedRows >= options.DeferPrimaryKeyMinRows
            ? new PrimaryKeyChoice(true,
                $"built after the rows: ~{rows} estimated rows, at least {threshold}, where one sorted build is faster than keeping the key through the COPY " +
                "(-DeferPrimaryKey:$false creates it with the table)")
            : new PrimaryKeyChoice(false,
                $"created with the table: ~{rows} estimated rows, under {threshold}, where building it afterwards saves nothing (-DeferPrimaryKey builds it after the rows)");
    }
}

/// <summary>
/// A table's primary key timing: <paramref name="AfterLoad"/> creates the table without it and builds it once the rows are
/// in; <see cref="AddedIfMissing"/> (a resumed run) creates it with the table and also adds it after the rows where missing.
/// </summary>
public sealed record PrimaryKeyChoice(bool AfterLoad, string Reason)
{
    public bool AddedIfMissing { get; init; }
}
