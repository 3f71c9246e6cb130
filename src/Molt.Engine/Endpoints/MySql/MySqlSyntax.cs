using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>Identifier and literal quoting in MySQL's and MariaDB's SQL: every identifier is quoted.</summary>
internal static class MySqlSyntax
{
    public static string Quote(string identifier) => "`" + identifier.Replace("`", "``", StringComparison.Ordinal) + "`";

    public static string Quote(TableName table) => Quote(table.Schema) + "." + Quote(table.Name);

    public static string QuoteList(IEnumerable<string> identifiers) => string.Join(", ", identifiers.Select(Quote));

    public static string Literal(string value) =>
        "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";
}
