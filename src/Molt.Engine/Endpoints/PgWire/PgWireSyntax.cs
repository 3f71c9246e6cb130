using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>Identifier and literal quoting in PostgreSQL's (and CockroachDB's) SQL: every identifier is quoted.</summary>
internal static class PgWireSyntax
{
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string Quote(TableName table) => Quote(table.Schema) + "." + Quote(table.Name);

    public static string QuoteList(IEnumerable<string> identifiers) => string.Join(", ", identifiers.Select(Quote));

    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
