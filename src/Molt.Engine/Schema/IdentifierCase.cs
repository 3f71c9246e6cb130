namespace Molt.Engine.Schema;

/// <summary>How a MySQL/MariaDB source's table and column names are spelled on the target (always quoted there).</summary>
public enum IdentifierCase
{
    /// <summary>As the source spells them: a CamelCase name stays CamelCase and must be quoted in queries.</summary>
    Preserve,

    /// <summary>Lower-cased, so that unquoted names in PostgreSQL and CockroachDB queries find them.</summary>
    Lower,
}

internal static class IdentifierCaseExtensions
{
    public static string Apply(this IdentifierCase rule, string name) => rule == IdentifierCase.Lower ? name.ToLowerInvariant() : name;
}
