using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Schema;

namespace Molt.Engine.Tests.Schema;

public sealed class MySqlExpressionTranslatorTests
{
    private static readonly HashSet<string> Columns = ["price", "qty", "name", "Mixed Case", "flag"];

    private static TranslatedExpression Translate(string expression) =>
        MySqlExpressionTranslator.Translate(expression, c => Columns.Contains(c) ? c : null);

    [Theory]
    // MariaDB's information_schema.CHECK_CONSTRAINTS spelling.
    [InlineData("`price` > 0 and `qty` >= 1", "\"price\" > 0 AND \"qty\" >= 1")]
    // MySQL 8 wraps the clause in parentheses.
    [InlineData("(`price` > 0)", "(\"price\" > 0)")]
    [InlineData("`name` in ('a','b''c')", "\"name\" IN ('a', 'b''c')")]
    [InlineData("`qty` between 1 and 10 or `qty` is null", "\"qty\" BETWEEN 1 AND 10 OR \"qty\" IS NULL")]
    [InlineData("char_length(`name`) <= 20", "char_length(\"name\") <= 20")]
    [InlineData("length(`name`) < 5", "octet_length(\"name\") < 5")]
    [InlineData("`Mixed Case` != -1.5e3", "\"Mixed Case\" <> -1.5e3")]
    [InlineData("`price` * `qty` % 7", "\"price\" * \"qty\" % 7")]
    [InlineData("`flag` = true && `qty` > 0", "\"flag\" = 1 AND \"qty\" > 0")]
    [InlineData("ifnull(`price`,0) + 1", "coalesce(\"price\", 0) + 1")]
    // MySQL 8's GENERATION_EXPRESSION escapes the quotes of a literal and names its character set.
    [InlineData("lower(_utf8mb4\\'A\\')", "lower('A')")]
    [InlineData("`name` <> 'it\\'s'", "\"name\" <> 'it''s'")]
    public void An_expression_that_means_the_same_on_both_sides_is_written_in_pgwire_sql(string mysql, string expected)
    {
        var translated = Translate(mysql);

        Assert.Equal(expected, translated.Sql);
        Assert.Null(translated.Reason);
    }

    [Theory]
    [InlineData("`price` / 2", "divides integers")]
    [InlineData("`name` like 'a%'", "like is not translated")]
    [InlineData("`price` > 0 || `qty` > 0", "PIPES_AS_CONCAT")]
    [InlineData("`price` <=> `qty`", "IS NOT DISTINCT FROM")]
    [InlineData("concat(`name`,'x') <> ''", "concat()")]
    [InlineData("`missing` > 0", "missing, which is not a column")]
    [InlineData("`name` = 'open", "not closed")]
    public void An_expression_that_could_behave_differently_is_refused_with_the_reason(string mysql, string reason)
    {
        var translated = Translate(mysql);

        Assert.Null(translated.Sql);
        Assert.Contains(reason, translated.Reason, StringComparison.OrdinalIgnoreCase);
    }
}
