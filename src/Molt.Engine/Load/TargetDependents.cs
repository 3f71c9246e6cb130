using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Load;

/// <summary>An object outside the selected tables that emptying or dropping them would take along, as a DBA would name it.</summary>
public sealed record TargetDependent(string Description)
{
    public override string ToString() => Description;
}

/// <summary>What a TRUNCATE ... CASCADE or a DROP TABLE ... CASCADE of the selected target tables would also remove, read from the target's catalog.</summary>
internal interface ITargetDependents
{
    /// <summary>Tables outside the selection that TRUNCATE ... CASCADE also empties: those with a foreign key into it, and theirs in turn.</summary>
    Task<IReadOnlyList<TargetDependent>> TruncatedWithAsync(NpgsqlConnection connection, IReadOnlyCollection<TableName> tables, CancellationToken cancellationToken);

    /// <summary>Objects outside the selection that DROP TABLE ... CASCADE also drops: views, other tables' foreign keys, and the like.</summary>
    Task<IReadOnlyList<TargetDependent>> DroppedWithAsync(NpgsqlConnection connection, IReadOnlyCollection<TableName> tables, CancellationToken cancellationToken);

    /// <summary>What DROP TABLE ... CASCADE may also drop that this target's catalog cannot name; null when it names everything.</summary>
    string? UnlistedDropDependents { get; }
}
