using System.Text.RegularExpressions;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// A column's default and ON UPDATE clause as MySQL SQL, from information_schema.COLUMNS. The two servers spell
/// COLUMN_DEFAULT differently: MariaDB 10.2.7+ writes SQL (quoted literals, 'NULL' for an explicit NULL default,
/// current_timestamp()); MySQL 8 writes a literal's bare text and marks an expression default with DEFAULT_GENERATED
/// in EXTRA (https://dev.mysql.com/doc/refman/8.0/en/information-schema-columns-table.html,
/// https://mariadb.com/kb/en/information-schema-columns-table/).
/// </summary>
internal static partial class MySqlColumnDefaults
{
    /// <summary>The default as a MySQL expression, or null when the column has none (or defaults to NULL).</summary>
    public static string? Default(string? columnDefault, string extra, bool mariaDb)
    {
        if (columnDefault is null || (mariaDb && columnDefault.Equals("NULL", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        if (mariaDb || extra.Contains("DEFAULT_GENERATED", StringComparison.OrdinalIgnoreCase) || CurrentTimestamp().IsMatch(columnDefault)
            || BitLiteral().IsMatch(columnDefault))
        {
            return columnDefault;
        }

        return "'" + columnDefault.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    /// <summary>The expression of an ON UPDATE clause (MySQL allows only CURRENT_TIMESTAMP), or null.</summary>
    public static string? OnUpdate(string extra) => OnUpdateClause().Match(extra) is { Success: true } match ? match.Groups[1].Value : null;

    /// <summary>CURRENT_TIMESTAMP and its synonyms, with or without a precision (MySQL 8 does not mark it DEFAULT_GENERATED before 8.0.13).</summary>
    [GeneratedRegex(@"^(current_timestamp|now|localtime|localtimestamp)(\(\d*\))?$", RegexOptions.IgnoreCase)]
    private static partial Regex CurrentTimestamp();

    [GeneratedRegex(@"^b'[01]*'$", RegexOptions.IgnoreCase)]
    private static partial Regex BitLiteral();

    [GeneratedRegex(@"on update ((?:current_timestamp|now|localtime|localtimestamp)(?:\(\d*\))?)", RegexOptions.IgnoreCase)]
    private static partial Regex OnUpdateClause();
}
