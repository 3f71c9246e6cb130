using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// How a column is selected so that its exact value reaches the client. The text protocol sends a FLOAT with 6
/// significant digits (16777216 as 1.67772e+07), which no client can undo; widened to DOUBLE on the server (exactly,
/// every float being a double), it arrives with every digit needed to round-trip.
/// </summary>
internal static class MySqlExactValues
{
    public static bool IsFloat(ColumnModel column) => column.Type.Name == "float" && !column.Type.IsArray;

    /// <summary>The column's value expression (unaliased), exact for every type.</summary>
    public static string Expression(ColumnModel column) =>
        IsFloat(column) ? $"({MySqlSyntax.Quote(column.Name)} + 0e0)" : MySqlSyntax.Quote(column.Name);

    /// <summary>The column as a select-list item, under its own name.</summary>
    public static string SelectItem(ColumnModel column) =>
        IsFloat(column) ? $"{Expression(column)} AS {MySqlSyntax.Quote(column.Name)}" : MySqlSyntax.Quote(column.Name);
}
