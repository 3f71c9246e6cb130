using System.Text;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.MySql.Replication;

/// <summary>What a QUERY event's statement does to tables, as far as a row-based stream cares.</summary>
internal enum StatementKind
{
    /// <summary>Nothing a row stream needs (BEGIN, COMMIT, SAVEPOINT, grants, DDL on other objects...).</summary>
    Other,
    Truncate,
    /// <summary>DDL that changes or replaces a table: ALTER, DROP, RENAME, CREATE TABLE (LIKE).</summary>
    TableDdl,
    /// <summary>A row change logged as a statement (binlog_format STATEMENT or MIXED): its rows are not in the stream.</summary>
    StatementDml,
}

/// <summary>A QUERY event's statement: its kind and the tables it names, qualified with the event's default schema.</summary>
internal sealed record BinlogStatement(StatementKind Kind, IReadOnlyList<TableName> Tables)
{
    private static readonly BinlogStatement None = new(StatementKind.Other, []);

    /// <summary>
    /// Reads the statement's leading words and table names. MySQL writes DDL into the binlog as the client sent it, so
    /// comments, backquoted names, IF [NOT] EXISTS and schema-qualified names are all expected.
    /// </summary>
    public static BinlogStatement Parse(string sql, string defaultSchema)
    {
        var tokens = Tokenize(sql);
        if (tokens.Count == 0)
        {
            return None;
        }

        var reader = new TokenReader(tokens, defaultSchema);
        switch (reader.Word())
        {
            case "TRUNCATE":
                reader.Skip("TABLE");
                return new BinlogStatement(StatementKind.Truncate, reader.Names());
            case "ALTER":
                reader.Skip("ONLINE");
                reader.Skip("IGNORE");
                if (!reader.Skip("TABLE"))
                {
                    return None;
                }

                reader.SkipIfExists();
                return new BinlogStatement(StatementKind.TableDdl, [.. reader.Names().Take(1)]);
            case "DROP":
                reader.Skip("TEMPORARY");
                return reader.Skip("TABLE") || reader.Skip("TABLES")
                    ? Ddl(reader)
                    : None;
            case "RENAME" when reader.Skip("TABLE") || reader.Skip("TABLES"):
                // RENAME TABLE a TO b, c TO d: both sides of each pair are changed.
                return new BinlogStatement(StatementKind.TableDdl, reader.Names(separators: [",", "TO"]));
            case "CREATE":
                reader.Skip("OR");
                reader.Skip("REPLACE");
                reader.Skip("TEMPORARY");
                return reader.Skip("TABLE") ? CreateTable(reader) : None;
            case "INSERT" or "REPLACE":
                reader.Skip("LOW_PRIORITY");
                reader.Skip("DELAYED");
                reader.Skip("HIGH_PRIORITY");
                reader.Skip("IGNORE");
                reader.Skip("INTO");
                return new BinlogStatement(StatementKind.StatementDml, [.. reader.Names().Take(1)]);
            case "UPDATE":
                reader.Skip("LOW_PRIORITY");
                reader.Skip("IGNORE");
                return new BinlogStatement(StatementKind.StatementDml, [.. reader.Names().Take(1)]);
            case "DELETE":
                reader.Skip("LOW_PRIORITY");
                reader.Skip("QUICK");
                reader.Skip("IGNORE");
                return reader.Skip("FROM") ? new BinlogStatement(StatementKind.StatementDml, [.. reader.Names().Take(1)]) : None;
            default:
                return None;
        }
    }

    private static BinlogStatement Ddl(TokenReader reader)
    {
        reader.SkipIfExists();
        return new BinlogStatement(StatementKind.TableDdl, reader.Names());
    }

    /// <summary>CREATE TABLE name ... LIKE other: the created name matters (it may replace a planned table dropped before).</summary>
    private static BinlogStatement CreateTable(TokenReader reader)
    {
        reader.Skip("IF");
        reader.Skip("NOT");
        reader.Skip("EXISTS");
        return new BinlogStatement(StatementKind.TableDdl, [.. reader.Names().Take(1)]);
    }

    /// <summary>Words (upper-cased), backquoted or double-quoted names (unquoted, kept as written) and punctuation; comments dropped.</summary>
    private static List<Token> Tokenize(string sql)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 2;
            }
            else if ((c == '-' && i + 2 < sql.Length && sql[i + 1] == '-' && char.IsWhiteSpace(sql[i + 2])) || c == '#')
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
            }
            else if (c is '`' or '"')
            {
                var name = new StringBuilder();
                i++;
                while (i < sql.Length)
                {
                    if (sql[i] == c && i + 1 < sql.Length && sql[i + 1] == c)
                    {
                        name.Append(c);
                        i += 2;
                    }
                    else if (sql[i] == c)
                    {
                        i++;
                        break;
                    }
                    else
                    {
                        name.Append(sql[i++]);
                    }
                }

                tokens.Add(new Token(name.ToString(), Quoted: true));
            }
            else if (char.IsLetterOrDigit(c) || c is '_' or '$')
            {
                var start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '$'))
                {
                    i++;
                }

                tokens.Add(new Token(sql[start..i], Quoted: false));
            }
            else
            {
                tokens.Add(new Token(c.ToString(), Quoted: false));
                i++;
            }
        }

        return tokens;
    }

    private readonly record struct Token(string Text, bool Quoted)
    {
        public bool Is(string word) => !Quoted && Text.Equals(word, StringComparison.OrdinalIgnoreCase);
    }

    private sealed class TokenReader(List<Token> tokens, string defaultSchema)
    {
        private int at;

        public string Word() => at < tokens.Count && !tokens[at].Quoted ? tokens[at++].Text.ToUpperInvariant() : "";

        public bool Skip(string word)
        {
            if (at < tokens.Count && tokens[at].Is(word))
            {
                at++;
                return true;
            }

            return false;
        }

        public void SkipIfExists()
        {
            if (at + 1 < tokens.Count && tokens[at].Is("IF") && tokens[at + 1].Is("EXISTS"))
            {
                at += 2;
            }
        }

        /// <summary>A list of (optionally schema-qualified) names separated by commas (or <paramref name="separators"/>).</summary>
        public List<TableName> Names(string[]? separators = null)
        {
            separators ??= [","];
            var names = new List<TableName>();
            while (at < tokens.Count)
            {
                var first = tokens[at];
                if (!first.Quoted && !IsName(first.Text))
                {
                    break;
                }

                at++;
                if (at + 1 < tokens.Count && tokens[at].Text == "." && !tokens[at].Quoted)
                {
                    names.Add(new TableName(first.Text, tokens[at + 1].Text));
                    at += 2;
                }
                else
                {
                    names.Add(new TableName(defaultSchema, first.Text));
                }

                if (at < tokens.Count && separators.Any(tokens[at].Is))
                {
                    at++;
                    continue;
                }

                break;
            }

            return names;
        }

        private static bool IsName(string text) => text.Length > 0 && (char.IsLetterOrDigit(text[0]) || text[0] is '_' or '$');
    }
}
