namespace Molt.Engine.Schema;

/// <summary>
/// The SQL a database speaks: what its types, expressions, defaults and index definitions are written in, and so what
/// a target dialect translates from. PostgreSQL and CockroachDB share one (pgwire); MySQL and MariaDB share the other.
/// </summary>
public enum SqlSyntax
{
    Postgres,
    MySql,
}
