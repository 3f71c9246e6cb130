namespace Molt.Engine.Endpoints;

/// <summary>The database products Molt reads from and writes to.</summary>
public enum EndpointKind
{
    Postgres,
    CockroachDb,
    MySql,
    MariaDb,
}

public static class EndpointKindExtensions
{
    /// <summary>PostgreSQL and CockroachDB speak pgwire; MySQL and MariaDB speak the MySQL protocol.</summary>
    public static bool IsPgWire(this EndpointKind kind) => kind is EndpointKind.Postgres or EndpointKind.CockroachDb;

    public static bool IsMySqlFamily(this EndpointKind kind) => kind is EndpointKind.MySql or EndpointKind.MariaDb;

    public static string DisplayName(this EndpointKind kind) => kind switch
    {
        EndpointKind.Postgres => "PostgreSQL",
        EndpointKind.CockroachDb => "CockroachDB",
        EndpointKind.MySql => "MySQL",
        EndpointKind.MariaDb => "MariaDB",
        _ => kind.ToString(),
    };
}
