namespace Molt.Engine.Schema;

/// <summary>The parameter lists of multi-row statements: "(@p0, @p1), (@p2, @p3)".</summary>
internal static class DmlParameters
{
    public static string Rows(int columns, int rows) =>
        string.Join(", ", Enumerable.Range(0, rows).Select(row => "(" + string.Join(", ", Enumerable.Range(row * columns, columns).Select(i => $"@p{i}")) + ")"));
}
