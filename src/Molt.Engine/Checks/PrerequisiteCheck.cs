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

/// <summary>The outcome of one prerequisite check, with what to do when it failed or passed with a warning.</summary>
public sealed record PrerequisiteCheck(EndpointRole Role, string Endpoint, string Check, bool Passed, string Detail, string? Remedy)
{
    /// <summary>Passed, but the setting costs something the detail names; the remedy says how to avoid the cost.</summary>
    public bool IsWarning { get; init; }

    public static PrerequisiteCheck Warn(EndpointRole role, EndpointAddress address, string check, string detail, string remedy) =>
        new(role, address.Display, check, true, detail, remedy) { IsWarning = true };

    /// <summary>A pass when <paramref name="ideal"/>, otherwise a warning: nothing breaks, something costs.</summary>
    public static PrerequisiteCheck Advise(EndpointRole role, EndpointAddress address, string check, bool ideal, string detail, string cost, string remedy) =>
        ideal ? Pass(role, address, check, detail) : Warn(role, address, check, $"{detail}: {cost}", remedy);

    public static PrerequisiteCheck Pass(EndpointRole role, EndpointAddress address, string check, string detail) =>
        new(role, address.Display, check, true, detail, null);

    public static PrerequisiteCheck Fail(EndpointRole role, EndpointAddress address, string check, string detail, string remedy) =>
        new(role, address.Display, check, false, detail, remedy);

    public static PrerequisiteCheck Of(EndpointRole role, EndpointAddress address, string check, bool passed, string detail, string remedy) =>
        new(role, address.Display, check, passed, detail, passed ? null : remedy);
}

/// <summary>The server an address reached, and how it fared against the chosen flow's prerequisites.</summary>
public sealed record ConnectionReport(ServerInfo Server, IReadOnlyList<PrerequisiteCheck> Checks);
