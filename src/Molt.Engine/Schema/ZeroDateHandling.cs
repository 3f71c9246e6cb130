namespace Molt.Engine.Schema;

/// <summary>What a MySQL/MariaDB source does with a date whose year, month or day is zero, which PostgreSQL cannot hold.</summary>
public enum ZeroDateHandling
{
    /// <summary>
    /// Load it as NULL. A NOT NULL column that holds zero dates cannot take NULL: planning refuses the load, naming it.
    /// </summary>
    Null,

    /// <summary>Reject the row: it is recorded in _molt.fetch_exceptions and its table fails, other tables go on.</summary>
    Reject,

    /// <summary>
    /// Load it as NULL, and create the NOT NULL columns that hold zero dates nullable on the target (a warning names
    /// each). Only with <see cref="TableHandling.DropAndRecreate"/>, which creates the columns.
    /// </summary>
    DropNotNull,

    /// <summary>Load it as <see cref="ZeroDateSentinel"/>: '0001-01-01', '0001-01-01 00:00:00' (UTC for a TIMESTAMP).</summary>
    Sentinel,
}
