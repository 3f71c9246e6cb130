namespace Molt;

/// <summary>How Start-MoltBulkLoad spells a MySQL/MariaDB source's table and column names on the target.</summary>
public enum IdentifierCase
{
    /// <summary>As the source spells them (quoted on the target, so CamelCase stays CamelCase).</summary>
    Preserve,

    /// <summary>Lower-cased, so that unquoted names in PostgreSQL and CockroachDB queries find them.</summary>
    Lower,
}
