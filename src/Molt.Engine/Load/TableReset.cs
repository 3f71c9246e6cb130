using Molt.Engine.Schema;

namespace Molt.Engine.Load;

/// <summary>
/// The one statement that empties or drops every selected target table before any is created or loaded, and what
/// outside them it also removes (only ever with -Cascade): shown by -WhatIf and warned about before it runs.
/// </summary>
public sealed record TableReset(string Sql, IReadOnlyList<TargetDependent> AlsoRemoved)
{
    /// <summary>What the statement may also remove that the target's catalog cannot name; null when it names everything.</summary>
    public string? Unlisted { get; init; }
}

/// <summary>
/// Decides the TRUNCATE or DROP over the selected tables, and refuses, before anything is written, one that would take
/// anything outside them along unless -Cascade accepts it. It is checked again just before it runs, over the tables
/// then prepared (a resumed run keeps the ones it loaded; the host may have declined some), so nothing the plan did not
/// name is removed.
/// </summary>
internal sealed class TableResetPlanner(ILoadTarget target, TableHandling handling, bool cascade)
{
    private readonly ITargetDependents dependents = target.Dependents;

    public async Task<TableReset?> PlanAsync(IReadOnlyList<TableName> tables, CancellationToken cancellationToken)
    {
        if (handling == TableHandling.None || tables.Count == 0)
        {
            return null;
        }

        var found = await FindAsync(tables, cancellationToken).ConfigureAwait(false);
        if (found.Count > 0 && !cascade)
        {
            throw Refusal(found);
        }

        return new TableReset(Statement(tables), found)
        {
            Unlisted = cascade && handling == TableHandling.DropAndRecreate ? dependents.UnlistedDropDependents : null,
        };
    }

    /// <summary>The statement for the tables being prepared now, or null when there is none to run.</summary>
    public async Task<string?> StatementAsync(TableReset? planned, IReadOnlyList<TableName> tables, CancellationToken cancellationToken)
    {
        if (planned is null || tables.Count == 0)
        {
            return null;
        }

        var unexpected = (await FindAsync(tables, cancellationToken).ConfigureAwait(false)).Except(planned.AlsoRemoved).ToList();
        if (unexpected.Count > 0)
        {
            throw Refusal(unexpected);
        }

        return Statement(tables);
    }

    private string Statement(IReadOnlyList<TableName> tables) => handling == TableHandling.DropAndRecreate
        ? target.Dialect.DropTablesIfExist(tables, cascade)
        : target.Dialect.TruncateTables(tables, cascade);

    private async Task<IReadOnlyList<TargetDependent>> FindAsync(IReadOnlyList<TableName> tables, CancellationToken cancellationToken)
    {
        await using var connection = await target.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return handling == TableHandling.DropAndRecreate
            ? await dependents.DroppedWithAsync(connection, tables, cancellationToken).ConfigureAwait(false)
            : await dependents.TruncatedWithAsync(connection, tables, cancellationToken).ConfigureAwait(false);
    }

    private MoltException Refusal(IReadOnlyList<TargetDependent> found)
    {
        var list = string.Join("; ", found);
        return handling == TableHandling.DropAndRecreate
            ? new MoltException(MoltErrorKind.InvalidState, "DependentObjectsWouldBeDropped",
                $"Dropping the selected target tables would also drop objects outside them: {list}. No table was changed.",
                "Drop or change those objects first (foreign keys among the selected tables are fine: they are recreated after the load), " +
                "keep the tables with -TableHandling TruncateIfExists, or add -Cascade to drop those objects too (they are not recreated).")
            : new MoltException(MoltErrorKind.InvalidState, "TruncateReferencedTable",
                $"The selected target tables are referenced by foreign keys of tables outside them, which TRUNCATE would have to empty too: {list}. No table was changed.",
                "Add those tables to the load, drop or change their foreign keys, or add -Cascade to empty them too (TRUNCATE ... CASCADE).");
    }
}
