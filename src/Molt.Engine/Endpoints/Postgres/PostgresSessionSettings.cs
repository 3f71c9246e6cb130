namespace Molt.Engine.Endpoints.Postgres;

/// <summary>Session settings of the connections Molt writes to a PostgreSQL target with.</summary>
internal static class PostgresSessionSettings
{
    /// <summary>
    /// Tells the ON UPDATE triggers Molt creates for MySQL's ON UPDATE CURRENT_TIMESTAMP that this session writes the
    /// source's own values (a custom setting any user may set: https://www.postgresql.org/docs/15/runtime-config-custom.html).
    /// A target whose default is synchronous_commit = off would answer COMMIT before the commit is durable, and replication
    /// confirms the source's position once the target commits: a target crash then would lose changes the source no longer
    /// keeps. So every Molt connection to a PostgreSQL target raises off (and local, which a failover to a synchronous
    /// standby could lose) to on, and leaves the stronger remote_write/remote_apply a user chose
    /// (https://www.postgresql.org/docs/15/runtime-config-wal.html#GUC-SYNCHRONOUS-COMMIT).
    /// </summary>
    public static IReadOnlyList<string> Load { get; } =
    [
        "SET molt.writing = 'on'",
        "SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') IN ('off', 'local')",
    ];
}
