using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Molt.Engine.Schema;
using static Molt.Engine.Endpoints.PgWire.PgWireSyntax;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// Translates the MySQL/MariaDB expressions a catalog holds (CHECK clauses, generated columns, expression defaults) into
/// pgwire SQL. Only what means the same on both sides is translated: comparisons, arithmetic without division, AND/OR/NOT,
/// IS [NOT] NULL, IN, BETWEEN, literals, columns and a short list of functions. Anything else (division, LIKE, `||`,
/// other functions) is refused with the reason, so the plan reports it instead of writing an expression that behaves
/// differently.
/// </summary>
internal static partial class MySqlExpressionTranslator
{
    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase) { "and", "or", "not", "is", "null", "in", "between" };

    private static readonly HashSet<string> Operators = ["=", "<>", "!=", "<", ">", "<=", ">=", "+", "-", "*", "%", "(", ")", ","];

    /// <summary>Functions with the same meaning on both sides, and their pgwire names.</summary>
    private static readonly Dictionary<string, string> Functions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["lower"] = "lower",
        ["upper"] = "upper",
        ["char_length"] = "char_length",
        ["character_length"] = "char_length",
        // MySQL's LENGTH counts bytes.
        ["length"] = "octet_length",
        ["octet_length"] = "octet_length",
        ["abs"] = "abs",
        ["coalesce"] = "coalesce",
        ["ifnull"] = "coalesce",
        ["nullif"] = "nullif",
        ["trim"] = "trim",
    };

    /// <summary>Translates <paramref name="expression"/>; <paramref name="column"/> gives a source column's target name, or null when the table has no such column.</summary>
    public static TranslatedExpression Translate(string expression, Func<string, string?> column)
    {
        List<Token> tokens;
        try
        {
            tokens = Tokenize(expression);
        }
        catch (FormatException ex)
        {
            return new(null, ex.Message);
        }

        var sql = new StringBuilder();
        var unary = false;
        var afterFunction = false;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var next = i + 1 < tokens.Count ? tokens[i + 1] : null;
            string? piece;
            switch (token.Kind)
            {
                case TokenKind.QuotedIdentifier:
                    piece = column(token.Text) is { } name ? Quote(name) : null;
                    if (piece is null)
                    {
                        return new(null, $"it names {token.Text}, which is not a column of the table");
                    }

                    break;
                case TokenKind.Word when next is { Kind: TokenKind.Symbol, Text: "(" } && !Keywords.Contains(token.Text):
                    if (!Functions.TryGetValue(token.Text, out var function))
                    {
                        return new(null, $"the function {token.Text.ToLowerInvariant()}() has no translation that behaves the same");
                    }

                    piece = function;
                    break;
                case TokenKind.Word when token.Text.Equals("true", StringComparison.OrdinalIgnoreCase) || token.Text.Equals("false", StringComparison.OrdinalIgnoreCase):
                    // MySQL's TRUE and FALSE are the integers 1 and 0 (its booleans are TINYINT(1), smallint on the target).
                    piece = token.Text.Equals("true", StringComparison.OrdinalIgnoreCase) ? "1" : "0";
                    break;
                case TokenKind.Word when Keywords.Contains(token.Text):
                    piece = token.Text.ToUpperInvariant();
                    break;
                case TokenKind.Word:
                    piece = column(token.Text) is { } bare ? Quote(bare) : null;
                    if (piece is null)
                    {
                        return new(null, $"{token.Text} is not translated (not a column, an operator or a function known to behave the same)");
                    }

                    break;
                case TokenKind.String:
                    piece = Literal(token.Text);
                    break;
                case TokenKind.Number:
                    piece = token.Text;
                    break;
                default:
                    if (token.Text == "&&")
                    {
                        piece = "AND";
                    }
                    else if (Operators.Contains(token.Text))
                    {
                        piece = token.Text == "!=" ? "<>" : token.Text;
                    }
                    else
                    {
                        return new(null, $"the operator {token.Text} is not translated: {Why(token.Text)}");
                    }

                    break;
            }

            if (sql.Length > 0 && !unary && !(afterFunction && piece == "(") && NeedsSpace(sql[^1], piece[0]))
            {
                sql.Append(' ');
            }

            sql.Append(piece);
            afterFunction = token.Kind == TokenKind.Word && next is { Text: "(" } && !Keywords.Contains(token.Text);
            // A sign right after an operator, a keyword or an opening parenthesis binds to what follows it.
            var previous = i > 0 ? tokens[i - 1] : null;
            unary = token.Text is "-" or "+" && (previous is null || (previous.Kind == TokenKind.Symbol && previous.Text != ")")
                || (previous.Kind == TokenKind.Word && Keywords.Contains(previous.Text)));
        }

        return sql.Length == 0 ? new(null, "it is empty") : new(sql.ToString(), null);
    }

    /// <summary>
    /// A column default: CURRENT_TIMESTAMP and its synonyms by the target column's type (LOCALTIMESTAMP for a timestamp
    /// without time zone, which holds MySQL DATETIME's local wall time), bit literals, literals for bytea as hex (an
    /// escape-format literal would read backslashes), and otherwise the expression translated.
    /// </summary>
    public static TranslatedExpression TranslateDefault(string expression, string targetWireType, Func<string, string?> column)
    {
        var trimmed = expression.Trim();
        if (CurrentTimestamp().Match(trimmed) is { Success: true } now)
        {
            var precision = now.Groups[2].Value is { Length: > 2 } digits ? digits : "";
            return targetWireType switch
            {
                "timestamp with time zone" => new("CURRENT_TIMESTAMP" + precision, null),
                "timestamp without time zone" => new("LOCALTIMESTAMP" + precision, null),
                _ => new(null, $"CURRENT_TIMESTAMP has no meaning for a {targetWireType} column"),
            };
        }

        if (CurrentDate().IsMatch(trimmed))
        {
            return new("CURRENT_DATE", null);
        }

        if (BitLiteral().Match(trimmed) is { Success: true } bits)
        {
            return targetWireType is "bit" or "bit varying" ? new($"B'{bits.Groups[1].Value}'", null)
                : new(Convert.ToUInt64(bits.Groups[1].Value.Length == 0 ? "0" : bits.Groups[1].Value, 2).ToString(CultureInfo.InvariantCulture), null);
        }

        List<Token> tokens;
        try
        {
            tokens = Tokenize(trimmed);
        }
        catch (FormatException ex)
        {
            return new(null, ex.Message);
        }

        if (tokens is [{ Kind: TokenKind.String } literal])
        {
            if (ZeroDate().IsMatch(literal.Text))
            {
                return new(null, $"the zero date {literal.Text} has no value on the target (the load wrote zero dates as -ZeroDateHandling says)");
            }

            if (literal.Text.Contains('\0', StringComparison.Ordinal))
            {
                return targetWireType == "bytea" ? new(HexBytes(literal.Text), null) : new(null, "it holds a NUL character, which text on the target cannot");
            }

            return new(targetWireType == "bytea" ? HexBytes(literal.Text) : Literal(literal.Text), null);
        }

        return Translate(trimmed, column);
    }

    private static string HexBytes(string text) => "'\\x" + Convert.ToHexString(Encoding.UTF8.GetBytes(text)).ToLowerInvariant() + "'";

    [GeneratedRegex(@"^(current_timestamp|now|localtime|localtimestamp)(\(\d*\))?$", RegexOptions.IgnoreCase)]
    private static partial Regex CurrentTimestamp();

    [GeneratedRegex(@"^(curdate\(\)|current_date(\(\))?)$", RegexOptions.IgnoreCase)]
    private static partial Regex CurrentDate();

    [GeneratedRegex(@"^b'([01]*)'$", RegexOptions.IgnoreCase)]
    private static partial Regex BitLiteral();

    [GeneratedRegex(@"^0000-00-00")]
    private static partial Regex ZeroDate();

    private static string Why(string symbol) => symbol switch
    {
        "/" => "MySQL divides integers into a decimal, PostgreSQL into an integer",
        "||" => "it is OR in MySQL unless PIPES_AS_CONCAT is set",
        "<=>" => "write it as IS NOT DISTINCT FROM on the target",
        _ => "it has no equivalent known to behave the same",
    };

    private static bool NeedsSpace(char last, char first) => !(last == '(' || first == ')' || first == ',');

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '`')
            {
                var end = i + 1;
                var name = new StringBuilder();
                while (true)
                {
                    if (end >= text.Length)
                    {
                        throw new FormatException("a quoted name is not closed");
                    }

                    if (text[end] == '`' && end + 1 < text.Length && text[end + 1] == '`')
                    {
                        name.Append('`');
                        end += 2;
                    }
                    else if (text[end] == '`')
                    {
                        break;
                    }
                    else
                    {
                        name.Append(text[end++]);
                    }
                }

                tokens.Add(new(TokenKind.QuotedIdentifier, name.ToString()));
                i = end + 1;
            }
            else if (c == '\'' || (c == '\\' && i + 1 < text.Length && text[i + 1] == '\''))
            {
                i = ReadString(text, i, tokens);
            }
            else if (c == '_' && CharsetIntroducer(text, i) is var introducer and > 0)
            {
                // _utf8mb4'text': MySQL 8 spells string literals of generated columns with their character set.
                i = ReadString(text, i + introducer, tokens);
            }
            else if (char.IsDigit(c) || (c == '.' && i + 1 < text.Length && char.IsDigit(text[i + 1])))
            {
                var end = i;
                while (end < text.Length && (char.IsDigit(text[end]) || text[end] == '.' || text[end] is 'e' or 'E'
                           || (text[end] is '+' or '-' && text[end - 1] is 'e' or 'E')))
                {
                    end++;
                }

                tokens.Add(new(TokenKind.Number, text[i..end]));
                i = end;
            }
            else if (char.IsLetter(c) || c == '_' || c == '$')
            {
                var end = i;
                while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] is '_' or '$'))
                {
                    end++;
                }

                tokens.Add(new(TokenKind.Word, text[i..end]));
                i = end;
            }
            else
            {
                var two = i + 1 < text.Length ? text.Substring(i, 2) : null;
                var symbol = string.CompareOrdinal(text, i, "<=>", 0, 3) == 0 ? "<=>"
                    : two is "<>" or "!=" or "<=" or ">=" or "&&" or "||" ? two : c.ToString(CultureInfo.InvariantCulture);
                tokens.Add(new(TokenKind.Symbol, symbol));
                i += symbol.Length;
            }
        }

        return tokens;
    }

    /// <summary>The length of a character set introducer (_utf8mb4) directly before a quote, or 0.</summary>
    private static int CharsetIntroducer(string text, int at)
    {
        var end = at + 1;
        while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_'))
        {
            end++;
        }

        return end < text.Length && (text[end] == '\'' || (text[end] == '\\' && end + 1 < text.Length && text[end + 1] == '\'')) ? end - at : 0;
    }

    /// <summary>
    /// Reads a string literal at <paramref name="start"/>: '' and backslash escapes inside, and the whole literal's quotes
    /// themselves backslash-escaped (\'a\') as MySQL 8's information_schema shows generated column expressions.
    /// </summary>
    private static int ReadString(string text, int start, List<Token> tokens)
    {
        var escapedQuotes = text[start] == '\\';
        var i = start + (escapedQuotes ? 2 : 1);
        var value = new StringBuilder();
        while (true)
        {
            if (i >= text.Length)
            {
                throw new FormatException("a string literal is not closed");
            }

            if (escapedQuotes && text[i] == '\\' && i + 1 < text.Length && text[i + 1] == '\'')
            {
                tokens.Add(new(TokenKind.String, value.ToString()));
                return i + 2;
            }

            if (!escapedQuotes && text[i] == '\'' && i + 1 < text.Length && text[i + 1] == '\'')
            {
                value.Append('\'');
                i += 2;
            }
            else if (!escapedQuotes && text[i] == '\'')
            {
                tokens.Add(new(TokenKind.String, value.ToString()));
                return i + 1;
            }
            else if (text[i] == '\\' && i + 1 < text.Length)
            {
                value.Append(Unescape(text[i + 1]));
                i += 2;
            }
            else
            {
                value.Append(text[i++]);
            }
        }
    }

    private static string Unescape(char c) => c switch
    {
        'n' => "\n",
        't' => "\t",
        'r' => "\r",
        '0' => "\0",
        _ => c.ToString(CultureInfo.InvariantCulture),
    };

    private enum TokenKind
    {
        QuotedIdentifier,
        Word,
        String,
        Number,
        Symbol,
    }

    private sealed record Token(TokenKind Kind, string Text);
}
