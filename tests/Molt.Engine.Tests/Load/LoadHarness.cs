using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Testing;

namespace Molt.Engine.Tests.Load;

/// <summary>Runs a real load from one database of a throwaway server into another, and checks what arrived.</summary>
internal static class LoadHarness
{
    public static async Task<(LoadPlan Plan, Engine.Load.BulkLoadSummary Summary, List<TableLoadResult> Tables, List<string> Log)> LoadAsync(
        string sourceUri, string targetUri, BulkLoadOptions options, CancellationToken ct = default, Action<TableProgress>? progress = null,
        SourceOptions? sourceOptions = null, ITargetDialect? dialect = null, Func<LoadPlan, LoadPlan>? approve = null, Action<string>? onLog = null)
    {
        var log = new List<string>();
        using var session = new MoltLogSession(e =>
        {
            var line = $"{e.Level}: {e.Message}";
            lock (log) { log.Add(line); }
            onLog?.Invoke(line);
        }, minimumLevel: MoltLogLevel.Debug);
        var source = EndpointAddress.Parse(sourceUri);
        var target = EndpointAddress.Parse(targetUri);
        // A dialect given loads with that database's implementations, whatever server the target is.
        EndpointKind? targetAs = dialect switch
        {
            null => null,
            CockroachDialect => EndpointKind.CockroachDb,
            _ => EndpointKind.Postgres,
        };
        await using var loader = await BulkLoadSession.OpenAsync(source, target, options, sourceOptions ?? new SourceOptions(), session, targetAs, ct);
        // approve stands for the host's -Confirm: the tables it leaves out of the plan are declined.
        var plan = await loader.PlanAsync(ct);
        plan = approve?.Invoke(plan) ?? plan;
        var tables = new List<TableLoadResult>();
        var summary = await loader.ExecuteAsync(plan, new BulkLoadCallbacks
        {
            Progress = progress,
            TableFinished = r => { lock (tables) { tables.Add(r); } },
        }, ct);
        return (plan, summary, tables, log);
    }

    /// <summary>
    /// Row count and an order-independent digest of a table's rows in their text form. The alias must not be a column
    /// name: a column "t" of table t made "t::text" digest that column alone.
    /// </summary>
    public static Task<string?> DigestAsync(PostgresServer server, string database, string table) =>
        server.ScalarAsync<string>(database,
            $"SELECT count(*) || ':' || coalesce(md5(string_agg(whole_row::text, E'\\n' ORDER BY whole_row::text)), '') FROM {table} AS whole_row");
}
