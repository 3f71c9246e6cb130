
namespace Molt.Engine.Schema;

/// <summary>Turns a source table into the plan of its target table: every copied column mapped by the target's dialect.</summary>
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
        var errors = new List<MoltException>();
        foreach (var column in source.CopiedColumns)
        {
            try
            {
                columns.Add(new TargetColumn(column, names.Apply(column.Name), dialect.MapType(source, column, sourceSyntax, overrides), column.IsNullable));
            }
            catch (MoltException ex) when (ex.Kind == MoltErrorKind.UnsupportedType)
            {
                errors.Add(ex);
            }
        }

        return errors.Count switch
        {
            0 => new TablePlan(source, target, columns, source.PrimaryKey.Select(k => names.Apply(k)).ToList()) { SourceSyntax = sourceSyntax, Names = names },
            1 => throw errors[0],
            _ => throw new MoltException(MoltErrorKind.UnsupportedType, "UnsupportedColumnTypes",
                string.Join(Environment.NewLine, errors.Select(e => e.Message)), string.Join(Environment.NewLine, errors.Select(e => e.Remedy))),
        };
    }
}
