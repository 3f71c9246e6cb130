namespace Molt.Engine.Endpoints.Cockroach;

/// <summary>Session settings of the connections a load writes to a CockroachDB server with.</summary>
internal static class CockroachSessionSettings
{
    /// <summary>
    /// COPY runs at background admission priority unless the session says otherwise
    /// (https://www.cockroachlabs.com/docs/stable/admission-control: copy_transaction_quality_of_service defaults to
    /// background), so a migration's bulk load would yield to every other workload of the cluster.
    /// </summary>
    public static IReadOnlyList<string> Load { get; } = ["SET copy_transaction_quality_of_service = 'regular'"];
}
