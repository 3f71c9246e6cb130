namespace Molt;

/// <summary>One prerequisite check of <c>Test-MoltConnection</c>.</summary>
public sealed class ConnectionCheck
{
    public string Role { get; init; } = string.Empty;

    /// <summary>The endpoint as a URI without its password.</summary>
    public string Endpoint { get; init; } = string.Empty;

    /// <summary>PostgreSQL, CockroachDB, MySQL or MariaDB, as the server reported itself.</summary>
    public string Server { get; init; } = string.Empty;

    public string Version { get; init; } = string.Empty;

    public string Flow { get; init; } = string.Empty;

    public string Check { get; init; } = string.Empty;

    public bool Passed { get; init; }

    public string Detail { get; init; } = string.Empty;

    /// <summary>Passed, at a cost the detail names (e.g. binlog_row_image = MINIMAL refuses keyless tables).</summary>
    public bool Warning { get; init; }

    /// <summary>What to do when the check failed or warned; empty when it passed cleanly.</summary>
    public string? Remedy { get; init; }

    public override string ToString() => $"{Role} {Check}: {(Passed ? Warning ? "passed with a warning" : "passed" : "FAILED")} ({Detail})";
}
