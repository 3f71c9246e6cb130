namespace Molt;

/// <summary>
/// Every engine type the cmdlets take or show as one of the module's enums, each mapped by name
/// (tests/Molt.PowerShell.Tests/EnumMappingTests.cs compares the names of every pair listed here).
/// </summary>
internal static class EnumMappings
{
    public static readonly EnumMapping<TableHandling, Engine.Schema.TableHandling> TableHandling = new();

    public static readonly EnumMapping<IdentifierCase, Engine.Schema.IdentifierCase> IdentifierCase = new();

    public static readonly EnumMapping<ZeroDateHandling, Engine.Schema.ZeroDateHandling> ZeroDateHandling = new();

    public static readonly EnumMapping<MigrationFlow, Engine.Checks.MigrationFlow> MigrationFlow = new();

    /// <summary>A run's status as _molt.fetch_runs records it: a load's summary and Get-MoltFetchStatus.</summary>
    public static readonly StatusMapping<LoadStatus> RunStatus = new(typeof(Engine.State.RunStatus));

    /// <summary>One table's outcome in a load: Running and Abandoned are a run's only.</summary>
    public static readonly StatusMapping<LoadStatus> TableStatus = new(typeof(Engine.Load.TableLoadStatus), LoadStatus.Running, LoadStatus.Abandoned);

    public static readonly StatusMapping<ComparisonStatus> ComparisonStatus = new(typeof(Engine.Verify.ComparisonStatus));

    /// <summary>A stream's state, shown by the replication cmdlets (by name, as the engine's enum spells it).</summary>
    public static readonly StatusMapping<ReplicationState> ReplicationState = new(typeof(Engine.Replication.ReplicationState));

    /// <summary>Which way a stream's changes flow (forward, or failback into the original source).</summary>
    public static readonly StatusMapping<ReplicationDirection> ReplicationDirection = new(typeof(Engine.Replication.ReplicationDirection));
}
