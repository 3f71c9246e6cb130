namespace Molt.Engine.Endpoints.Postgres;

/// <summary>Session settings of the connections Molt writes to a PostgreSQL target with.</summary>
internal static class PostgresSessionSettings
{
    /// <summary>
    /// Tells the ON UPDATE triggers Molt creates for MySQL's ON UPDATE CURRENT_TIMESTAMP that this session writes the
    /// source's own values (a custom setting any user may set: https://www.postgresql.org/docs/15/runtime-config-custom.html).
    /// </summary>
    public static IReadOnlyList<string> Load { get; } = ["SET molt.writing = 'on'"];
}
