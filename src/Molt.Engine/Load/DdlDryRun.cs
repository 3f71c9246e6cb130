using System.Diagnostics;
using System.Globalization;
using System.Text;
using Molt.Engine.Schema;
using Npgsql;
using Serilog;

namespace Molt.Engine.Load;

/// <summary>One DDL statement a load runs, with the table it is for (null: the TRUNCATE or DROP over all of them).</summary>
internal sealed record LoadDdlStatement(TableName? Table, string Description, string Sql)
{
    /// <summary>True for what creates the table (its types, CREATE TABLE): a refusal leaves nothing for its later statements to act on.</summary>
    public bool CreatesTable { get; init; }
}

/// <summary>
/// Checks, before the first row or <c>_molt</c> record is written, that the target accepts every DDL statement the load
/// would run, in the load's order: the TRUNCATE or DROP, each table's types and CREATE TABLE, deferred primary keys, then
/// the indexes, constraints, sequences, defaults and triggers that follow the rows. They run in a transaction that is
/// always rolled back, all in one round trip, and when one is refused, again each inside a savepoint so that every
/// refusal is named, not only the first. A SELECT (a sequence's setval, which no rollback undoes) is planned with
/// EXPLAIN rather than run. What depends on the rows (a CHECK that loaded values break, a unique constraint over
/// duplicates) cannot show on empty tables and still fails after the load, recorded as before.
/// </summary>
internal sealed class DdlDryRun(ILoadTarget target, ILogger log)
{
    private const string Savepoint = "molt_ddl_check";

    /// <summary>Refusals named one by one in the error; the rest are counted.</summary>
    private const int MaxNamed = 10;

    /// <summary>How much of a refused statement the error shows (a CREATE TABLE of many columns is long).</summary>
    private const int MaxSqlShown = 400;

    /// <summary>Every DDL statement of <paramref name="plan"/> in the order the load runs them; <paramref name="reset"/> is the TRUNCATE or DROP.</summary>
    public static IReadOnlyList<LoadDdlStatement> InLoadOrder(LoadPlan plan, string? reset)
    {
        var statements = new List<LoadDdlStatement>();
        if (reset is not null)
        {
            statements.Add(new(null, "emptying or dropping the selected tables", reset));
        }

        statements.AddRange(plan.Tables.SelectMany(t => t.PreLoad.Select(sql => new LoadDdlStatement(t.Plan.Target, "creating the table", sql) { CreatesTable = true })));
        statements.AddRange(plan.Tables.Where(t => t.PrimaryKeyAfterLoad is not null)
            .Select(t => new LoadDdlStatement(t.Plan.Target, "primary key", t.PrimaryKeyAfterLoad!)));
        statements.AddRange(plan.Tables.SelectMany(t => t.PostLoad.Where(s => s.Sql is not null).Select(s => new LoadDdlStatement(t.Plan.Target, s.Description, s.Sql!))));
        return statements;
    }

    /// <summary>
    /// Runs the check, or says why this target is not checked. Throws <see cref="MoltException"/> (TargetDdlRefused)
    /// naming each refused statement, its table and the target's message; nothing is left on the target either way.
    /// </summary>
    public async Task CheckAsync(LoadPlan plan, string? reset, CancellationToken cancellationToken)
    {
        var statements = InLoadOrder(plan, reset);
        if (statements.Count == 0)
        {
            return;
        }

        if (!target.Dialect.ChecksDdlInRolledBackTransaction)
        {
            log.Information("The plan's {Count} DDL statements are not checked before the load: {Target:l} cannot check DDL in a transaction that is rolled back, " +
                "so a statement it refuses fails when the load reaches it", statements.Count, target.Dialect.DisplayName);
            return;
        }

        var clock = Stopwatch.StartNew();
        await using var connection = await target.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var refusals = await AllAcceptedAsync(connection, statements, cancellationToken).ConfigureAwait(false)
            ? []
            : await EachRefusalAsync(connection, statements, cancellationToken).ConfigureAwait(false);
        log.Information("Checked the plan's {Count} DDL statements in a transaction rolled back: {Refused} refused, {Milliseconds} ms",
            statements.Count, refusals.Count, clock.ElapsedMilliseconds);
        if (refusals.Count > 0)
        {
            throw Refused(refusals, statements.Count);
        }
    }

    /// <summary>
    /// All statements in one round trip, the usual case's cost: the server stops at the first refusal, and then the
    /// statements run again one by one to name every refusal.
    /// </summary>
    private static async Task<bool> AllAcceptedAsync(NpgsqlConnection connection, IReadOnlyList<LoadDdlStatement> statements, CancellationToken cancellationToken)
    {
        // Disposed without a commit, the transaction is rolled back whatever happens below.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Each statement gets the time it would have alone (a timeout of 0, none, stays none).
        await using var batch = new NpgsqlBatch(connection, transaction) { Timeout = (int)Math.Min(int.MaxValue, (long)connection.CommandTimeout * statements.Count) };
        foreach (var statement in statements)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(Checkable(statement.Sql)));
        }

        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException) when (!cancellationToken.IsCancellationRequested)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return false;
        }

        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static async Task<List<(LoadDdlStatement Statement, PostgresException Error)>> EachRefusalAsync(NpgsqlConnection connection,
        IReadOnlyList<LoadDdlStatement> statements, CancellationToken cancellationToken)
    {
        var refusals = new List<(LoadDdlStatement, PostgresException)>();
        var uncreated = new HashSet<TableName>();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var statement in statements)
        {
            if (statement.Table is { } table && uncreated.Contains(table))
            {
                continue;
            }

            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand($"SAVEPOINT {Savepoint}"),
                    new NpgsqlBatchCommand(Checkable(statement.Sql)),
                    new NpgsqlBatchCommand($"RELEASE SAVEPOINT {Savepoint}"),
                },
            };
            try
            {
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (!cancellationToken.IsCancellationRequested)
            {
                refusals.Add((statement, ex));
                if (statement.Table is null)
                {
                    // Every later statement needs the tables emptied or dropped first.
                    break;
                }

                if (statement.CreatesTable)
                {
                    uncreated.Add(statement.Table);
                }

                await transaction.RollbackAsync(Savepoint, cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        return refusals;
    }

    /// <summary>A query is planned, not run: the SELECTs among a load's DDL set sequences, and nextval and setval are not rolled back.</summary>
    private static string Checkable(string sql) => sql.StartsWith("SELECT ", StringComparison.OrdinalIgnoreCase) ? "EXPLAIN " + sql : sql;

    private MoltException Refused(List<(LoadDdlStatement Statement, PostgresException Error)> refusals, int checkedCount)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"{target.Dialect.DisplayName} refused {refusals.Count} of the plan's {checkedCount} DDL statements, checked before the load in a transaction rolled back, so no table was created, emptied or dropped and no row copied:");
        foreach (var (statement, error) in refusals.Take(MaxNamed))
        {
            text.AppendLine().Append(CultureInfo.InvariantCulture,
                $"  {(statement.Table is { } table ? $"table {table}" : "all tables")}, {statement.Description}: {error.MessageText} (SQLSTATE {error.SqlState}) in: {Shown(statement.Sql)}");
        }

        if (refusals.Count > MaxNamed)
        {
            text.AppendLine().Append(CultureInfo.InvariantCulture, $"  and {refusals.Count - MaxNamed} more");
        }

        return new MoltException(MoltErrorKind.SchemaMismatch, "TargetDdlRefused", text.ToString(),
            "Give the target what it lacks (a function, an extension, a type), change the source's definition, or leave the table out with -ExcludeTable; " +
            "-WhatIf lists every statement of the plan.", refusals[0].Error)
        {
            Target = refusals[0].Statement.Table?.ToString(),
        };
    }

    private static string Shown(string sql) => sql.Length <= MaxSqlShown ? sql : string.Concat(sql.AsSpan(0, MaxSqlShown), "…");
}
