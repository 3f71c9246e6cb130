namespace Molt;

/// <summary>
/// One vocabulary for every load object: a table's result, a run's summary and Get-MoltFetchStatus. The engine keeps
/// these as text in the target's _molt schema; the cmdlets turn them into this enum.
/// </summary>
public enum LoadStatus
{
    Running,
    Succeeded,
    Failed,
    Interrupted,

    /// <summary>Recorded as running, but no session holds the run: its process died. -Resume continues it.</summary>
    Abandoned,
}

/// <summary>What Compare-MoltData found for a table.</summary>
public enum ComparisonStatus
{
    Equal,
    Different,

    /// <summary>The table could not be compared (see Note).</summary>
    Error,
}
