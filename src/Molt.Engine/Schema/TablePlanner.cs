
namespace Molt.Engine.Schema;

/// <summary>Turns a source table into the plan of its target table: every column mapped by the target's dialect, generated ones computed by the target where their expression translates.</summary>
internal static class TablePlanner
{
    /// <summary>
    /// Maps every copied column; when several have no mapping, one error lists them all so a single -TypeMapFile fixes
    /// the whole table.
    /// </summary>
    public static TablePlan Plan(TableModel source, TableName target, ITargetDialect dialect, SqlSyntax sourceSyntax, TypeMapOverrides overrides,
        IdentifierCase names = IdentifierCase.Preserve)
    {
        dialect.CheckTable(source);
        var columns = new List<TargetColumn>();
        var generated = new List<GeneratedColumn>();
        var errors = new List<MoltException>();
        var targetName = TargetColumnNames(source, names);
        foreach (var column in source.Columns)
        {
            try
            {
                var type = dialect.MapType(source, column, sourceSyntax, overrides);
                if (column.IsGenerated && dialect.TranslateExpression(column.GenerationExpression!, sourceSyntax, targetName) is { Sql: { } expression })
                {
                    generated.Add(new GeneratedColumn(column, names.Apply(column.Name), type, expression));
                }
                else
                {
                    // A generated column whose expression does not translate keeps its values as a plain column (the plan says so).
                    columns.Add(new TargetColumn(column, names.Apply(column.Name), type, column.IsNullable));
                }
            }
            catch (MoltException ex) when (ex.Kind == MoltErrorKind.UnsupportedType)
            {
                errors.Add(ex);
            }
        }

        return errors.Count switch
        {
            0 => new TablePlan(source, target, columns, source.PrimaryKey.Select(k => names.Apply(k)).ToList()) { SourceSyntax = sourceSyntax, Names = names, Generated = generated },
            1 => throw errors[0],
            _ => throw new MoltException(MoltErrorKind.UnsupportedType, "UnsupportedColumnTypes",
                string.Join(Environment.NewLine, errors.Select(e => e.Message)), string.Join(Environment.NewLine, errors.Select(e => e.Remedy))),
        };
    }

    /// <summary>
    /// A source column's target name by the name an expression uses for it (MySQL names are case-insensitive), or null
    /// for a name the table has no column of: what translated expressions name columns by.
    /// </summary>
    public static Func<string, string?> TargetColumnNames(TableModel source, IdentifierCase names) =>
        name => source.Columns.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)) is { } found ? names.Apply(found.Name) : null;
}
