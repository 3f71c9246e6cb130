using System.Text;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.MySql.Apply;

/// <summary>
/// The statements failback writes into MySQL or MariaDB, every identifier backquoted and every value a parameter
/// (@p0..@pN, row by row, each row's values in column order).
/// </summary>
internal static class MySqlApplySql
{
    /// <summary>
    /// The apply session: TIMESTAMP literals are UTC (as the target's values are); strict, so a value the column cannot
    /// hold is refused rather than truncated; NO_AUTO_VALUE_ON_ZERO, so an AUTO_INCREMENT key 0 is written as 0; zero
    /// dates allowed (no NO_ZERO_DATE), since a sentinel comes back as one.
    /// </summary>
    public const string SessionSettings =
        "SET SESSION time_zone = '+00:00', SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'";

    /// <summary>
    /// INSERT ... ON DUPLICATE KEY UPDATE of <paramref name="rows"/> whole rows. VALUES(col) is spelled as both MySQL
    /// (deprecated from 8.0.20, still accepted) and MariaDB accept it. A row whose columns are all its key sets the key to itself.
    /// </summary>
    public static string Upsert(TableName table, IReadOnlyList<string> columns, IReadOnlyList<string> keyColumns, int rows)
    {
        var set = columns.Where(c => !keyColumns.Contains(c)).DefaultIfEmpty(columns[0]).Select(c => $"{MySqlSyntax.Quote(c)} = VALUES({MySqlSyntax.Quote(c)})");
        return $"INSERT INTO {MySqlSyntax.Quote(table)} ({MySqlSyntax.QuoteList(columns)}) VALUES {Rows(columns.Count, rows)} ON DUPLICATE KEY UPDATE {string.Join(", ", set)}";
    }

    /// <summary>A plain multi-row INSERT, for a table without a key.</summary>
    public static string Insert(TableName table, IReadOnlyList<string> columns, int rows) =>
        $"INSERT INTO {MySqlSyntax.Quote(table)} ({MySqlSyntax.QuoteList(columns)}) VALUES {Rows(columns.Count, rows)}";

    /// <summary>DELETE of <paramref name="rows"/> rows by key: (k1, k2) IN ((@p0, @p1), ...).</summary>
    public static string DeleteByKeys(TableName table, IReadOnlyList<string> keyColumns, int rows) =>
        $"DELETE FROM {MySqlSyntax.Quote(table)} WHERE ({MySqlSyntax.QuoteList(keyColumns)}) IN ({Rows(keyColumns.Count, rows)})";

    /// <summary>UPDATE of the <paramref name="set"/> columns of the row with the given key (set values first, then the key's).</summary>
    public static string UpdateByKey(TableName table, IReadOnlyList<string> set, IReadOnlyList<string> keyColumns) =>
        $"UPDATE {MySqlSyntax.Quote(table)} SET {Assignments(set)} WHERE {Matching(keyColumns, set.Count, nullSafe: false)}";

    /// <summary>One row matched by every value (NULLs too, with &lt;=&gt;), for a table without a key: only one of identical rows changes.</summary>
    public static string UpdateOneMatching(TableName table, IReadOnlyList<string> set, IReadOnlyList<string> match) =>
        $"UPDATE {MySqlSyntax.Quote(table)} SET {Assignments(set)} WHERE {Matching(match, set.Count, nullSafe: true)} LIMIT 1";

    public static string DeleteOneMatching(TableName table, IReadOnlyList<string> match) =>
        $"DELETE FROM {MySqlSyntax.Quote(table)} WHERE {Matching(match, 0, nullSafe: true)} LIMIT 1";

    /// <summary>TRUNCATE cannot run inside a transaction (it commits implicitly): DELETE empties the table with the batch.</summary>
    public static string Empty(TableName table) => $"DELETE FROM {MySqlSyntax.Quote(table)}";

    private static string Assignments(IReadOnlyList<string> set) => string.Join(", ", set.Select((c, i) => $"{MySqlSyntax.Quote(c)} = @p{i}"));

    private static string Matching(IReadOnlyList<string> columns, int first, bool nullSafe) =>
        string.Join(" AND ", columns.Select((c, i) => $"{MySqlSyntax.Quote(c)} {(nullSafe ? "<=>" : "=")} @p{first + i}"));

    private static string Rows(int columns, int rows)
    {
        var text = new StringBuilder();
        for (var row = 0; row < rows; row++)
        {
            text.Append(row == 0 ? "(" : ", (");
            for (var column = 0; column < columns; column++)
            {
                text.Append(column == 0 ? "@p" : ", @p").Append(row * columns + column);
            }

            text.Append(')');
        }

        return text.ToString();
    }
}
