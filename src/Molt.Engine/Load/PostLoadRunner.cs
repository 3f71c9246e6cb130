using Molt.Engine.State;
using Npgsql;
using Serilog;
using Serilog.Events;

namespace Molt.Engine.Load;

/// <summary>
/// Secondary indexes, constraints and foreign keys, once every table's data is in; tables that failed get none.
/// A resumed run runs them all again, so that whatever a table dropped and recreated since took with it (a foreign key
/// of another table) comes back. They are not made idempotent in SQL: PostgreSQL has no ADD CONSTRAINT IF NOT EXISTS,
/// and CREATE INDEX IF NOT EXISTS would as silently keep another table's index of the same name. Instead each statement
/// is recorded in <c>_molt.fetch_post_load</c> as started before it runs and as done after: a duplicate-object error for
/// a statement this run started before is that earlier attempt's own work, done, and is not reported again.
/// </summary>
internal sealed class PostLoadRunner(NpgsqlDataSource target, LoadStateStore state, ILogger log)
{
    private readonly TargetDdl ddl = new(state, log);

    /// <summary>"relation already exists" (an index, a unique constraint's index) and "constraint already exists", on PostgreSQL and CockroachDB.</summary>
    private static readonly HashSet<string> AlreadyExists = [PostgresErrorCodes.DuplicateTable, PostgresErrorCodes.DuplicateObject];

    public async Task RunAsync(LoadPlan plan, IEnumerable<TableLoadResult> results, CancellationToken cancellationToken)
    {
        var loaded = results.Where(r => r.Status == TableLoadStatus.Succeeded).Select(r => r.Table).ToHashSet();
        var earlier = plan.Resuming
            ? await state.ReadPostLoadAsync(plan.FetchId, cancellationToken).ConfigureAwait(false)
            : new Dictionary<(string, string), string>();
        await using var connection = await target.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var table in plan.Tables.Where(t => loaded.Contains(t.Plan.Source.Name)))
        {
            var sourceTable = table.Plan.Source.Name.ToString();
            foreach (var statement in table.PostLoad)
            {
                var before = earlier.GetValueOrDefault((sourceTable, statement.Description));
                if (statement.Sql is null)
                {
                    if (before != PostLoadStatus.NotTranslated)
                    {
                        await ddl.RecordAsync(plan.FetchId, sourceTable, LogEventLevel.Warning, null,
                            $"not carried over: {statement.Description}: {statement.NotTranslatedReason}").ConfigureAwait(false);
                        await Mark(plan.FetchId, sourceTable, statement, PostLoadStatus.NotTranslated).ConfigureAwait(false);
                    }

                    continue;
                }

                await Mark(plan.FetchId, sourceTable, statement, PostLoadStatus.Started).ConfigureAwait(false);
                // An index or constraint that exists was made by an earlier attempt only when that attempt started it.
                var failed = await ddl.TryExecuteAsync(connection, plan.FetchId, sourceTable, statement.Sql, $"{statement.Description} failed", LogEventLevel.Warning,
                    sqlState => AlreadyExists.Contains(sqlState) && before is PostLoadStatus.Started or PostLoadStatus.Done, cancellationToken).ConfigureAwait(false);
                if (failed is not null)
                {
                    await Mark(plan.FetchId, sourceTable, statement, PostLoadStatus.Failed).ConfigureAwait(false);
                    continue;
                }

                await Mark(plan.FetchId, sourceTable, statement, PostLoadStatus.Done).ConfigureAwait(false);
            }
        }
    }

    // A mark is never cut off by Ctrl+C: "started" must be recorded before the statement can have run.
    private Task Mark(string fetchId, string sourceTable, Schema.DdlStatement statement, string status) =>
        state.SetPostLoadStatusAsync(fetchId, sourceTable, statement.Description, status, CancellationToken.None);
}
