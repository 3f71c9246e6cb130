using System.Globalization;
using System.Text;
using Molt.Engine.Load;

namespace Molt.PowerShell.Cmdlets;

/// <summary>What a load plan would run, in the words -WhatIf and -Confirm show.</summary>
internal static class LoadPlanDescription
{
    /// <summary>The TRUNCATE or DROP over the selected tables, with what -Cascade takes along.</summary>
    public static string Of(TableReset reset, bool dropping)
    {
        var text = new StringBuilder("Before any table: ").Append(reset.Sql);
        foreach (var removed in reset.AlsoRemoved)
        {
            text.AppendLine().Append(dropping ? "  also drops: " : "  also empties: ").Append(removed);
        }

        if (reset.Unlisted is not null)
        {
            text.AppendLine().Append("  also: ").Append(reset.Unlisted);
        }

        return text.ToString();
    }

    /// <summary>Whether the plan's DDL is checked on the target before anything is written, and how.</summary>
    public static string DdlCheck(LoadPlan plan) => plan.ChecksDdlFirst
        ? $"Before anything is written: check the plan's {plan.DdlStatements} DDL statements on the target ({plan.TargetDialect}) in a transaction that is rolled back; " +
          "a statement it refuses stops the load with nothing created, emptied or copied. -WhatIf does not run this check."
        : plan.Resuming
            ? $"The plan's {plan.DdlStatements} DDL statements are not checked again: the run's first attempt checked them."
            : $"The plan's {plan.DdlStatements} DDL statements are not checked before the load: {plan.TargetDialect} cannot check DDL in a transaction that is rolled back, " +
              "so a statement it refuses fails when the load reaches it.";

    /// <summary>One table's load: its columns' types, the statements before and after its rows, and what of its schema is not carried over.</summary>
    public static string Of(LoadPlan plan, PlannedTable table, int shardsPerTable)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Load {table.Plan.Source.Name} -> {table.Plan.Target} ({plan.TargetDialect}), ~{table.Plan.Source.EstimatedRows} rows, ");
        text.Append(table.Plan.Source.HasPrimaryKey ? $"up to {shardsPerTable} shards" : "1 shard (no primary key)");
        text.Append(table.Plan.IsBinaryCompatible ? ", binary relay" : ", converted per column");
        if (table.Where is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $", WHERE {table.Where}");
        }

        foreach (var column in table.Plan.Columns)
        {
            text.AppendLine().Append(CultureInfo.InvariantCulture, $"  column {column.Name}: {column.Source.Type.Declared} -> {column.Type.Sql}");
            if (column.Type.Note is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $" ({column.Type.Note})");
            }
        }

        foreach (var sql in table.PreLoad)
        {
            text.AppendLine().Append("  before: ").Append(sql);
        }

        if (table.PrimaryKey is { } key)
        {
            text.AppendLine().Append("  primary key: ").Append(key.Reason);
        }

        if (table.PrimaryKeyAfterLoad is not null)
        {
            text.AppendLine().Append("  after its rows: ").Append(table.PrimaryKeyAfterLoad);
        }

        foreach (var statement in table.PostLoad.Where(s => s.Sql is not null))
        {
            text.AppendLine().Append("  after: ").Append(statement.Sql);
        }

        foreach (var statement in table.PostLoad.Where(s => s.Sql is null))
        {
            text.AppendLine().Append(CultureInfo.InvariantCulture, $"  not carried over: {statement.Description}: {statement.NotTranslatedReason}");
        }

        if (table.Warning is not null)
        {
            text.AppendLine().Append("  warning: ").Append(table.Warning);
        }

        return text.ToString();
    }
}
