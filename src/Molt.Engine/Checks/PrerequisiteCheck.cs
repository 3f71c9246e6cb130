using Molt.Engine.Endpoints;

namespace Molt.Engine.Checks;

/// <summary>The migration flows whose prerequisites Molt can check.</summary>
public enum MigrationFlow
{
    BulkLoad,
    Replication,
    Failback,
}

/// <summary>What a server said about itself once connected.</summary>
public sealed record ServerInfo(EndpointKind Kind, string Version, string VersionText, string Database, string User);

/// <summary>The outcome of one prerequisite check, with what to do when it failed.</summary>
public sealed record PrerequisiteCheck(EndpointRole Role, string Endpoint, string Check, bool Passed, string Detail, string? Remedy)
{
    public static PrerequisiteCheck Pass(EndpointRole role, EndpointAddress address, string check, string detail) =>
        new(role, address.Display, check, true, detail, null);

    public static PrerequisiteCheck Fail(EndpointRole role, EndpointAddress address, string check, string detail, string remedy) =>
        new(role, address.Display, check, false, detail, remedy);

    public static PrerequisiteCheck Of(EndpointRole role, EndpointAddress address, string check, bool passed, string detail, string remedy) =>
        new(role, address.Display, check, passed, detail, passed ? null : remedy);
}

/// <summary>The server an address reached, and how it fared against the chosen flow's prerequisites.</summary>
public sealed record ConnectionReport(ServerInfo Server, IReadOnlyList<PrerequisiteCheck> Checks);
