using Molt.Engine.Schema;

namespace Molt.Engine.Verify;

public sealed record CompareOptions
{
    public TableFilter Filter { get; init; } = TableFilter.All;

    /// <summary>
    /// Row filters as the load takes them (see <see cref="RowFilters"/>): each predicate is applied to the source, and to
    /// the target too when the target can evaluate it.
    /// </summary>
    public IReadOnlyDictionary<string, string> Where { get; init; } = new Dictionary<string, string>();

    /// <summary>The target schema of a MySQL/MariaDB source's tables (a PostgreSQL source's keep their schemas).</summary>
    public string TargetSchema { get; init; } = "public";

    /// <summary>Report each differing row, not only the counts.</summary>
    public bool Detailed { get; init; }

    /// <summary>At most this many differing rows are reported per table (counting goes on).</summary>
    public int MaxDifferences { get; init; } = 1000;

    public int TableConcurrency { get; init; } = 4;

    /// <summary>Re-read a differing row a few times, after a delay, before reporting it: for tables still being replicated.</summary>
    public bool Live { get; init; }

    public int LiveRetries { get; init; } = 3;

    public TimeSpan LiveDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Relative tolerance for floating-point columns; 0 compares them exactly.</summary>
    public double FloatTolerance { get; init; }

    /// <summary>MySQL/MariaDB source: how the load wrote its zero dates, so that each equals what it became.</summary>
    public ZeroDateHandling ZeroDates { get; init; } = ZeroDateHandling.Null;
}
