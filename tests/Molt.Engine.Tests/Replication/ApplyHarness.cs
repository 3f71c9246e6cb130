using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Testing;
using Npgsql;
using Serilog;

namespace Molt.Engine.Tests.Replication;

/// <summary>A real PostgreSQL target for the apply tests; each test writes into a database of its own.</summary>
public sealed class ApplyTargetFixture : IAsyncLifetime
{
    private int databases;

    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    internal async Task<ApplyTarget> NewTargetAsync(string prefix, string schemaSql)
    {
        var name = $"{prefix}_{Interlocked.Increment(ref databases)}";
        await Server.CreateDatabaseAsync(name);
        // Rows are compared as text: one time zone for every session.
        await Server.ExecuteAsync("postgres", $"ALTER DATABASE \"{name}\" SET TimeZone = 'UTC'");
        await Server.ExecuteAsync(name, schemaSql);
        return new ApplyTarget(Server, name, NpgsqlDataSource.Create(Server.ConnectionString(name)));
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ApplyTargetCollection : ICollectionFixture<ApplyTargetFixture>
{
    public const string Name = "replication apply target";
}

/// <summary>One target database, with the applier, control and loop wired over it as a session would.</summary>
internal sealed class ApplyTarget(PostgresServer server, string database, NpgsqlDataSource dataSource) : IAsyncDisposable
{
    public PostgresServer Server => server;

    public string Database => database;

    public NpgsqlDataSource DataSource => dataSource;

    public PgWireReplicationControl Control { get; } = new(dataSource, Molt.Engine.State.RunLeaseKind.AdvisoryLock);

    internal async Task<ReplicationStatus> RunAsync(FakeChangeSource source, IReadOnlyList<TablePlan> plans, ReplicationOptions? options = null,
        string fetchId = "f1", IProgress<ReplicationStatus>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new ReplicationOptions();
        await using var applier = PgWireChangeApplier.Open(dataSource, new PostgresApplySql(new PostgresDialect()), options.Batch);
        var loop = new ReplicationLoop(source, applier, applier, Control, options, Apply.Timing, Apply.Log);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        return await loop.RunAsync(fetchId, plans, new PostgresLsn(0x1000), "molt_slot", progress, timeout.Token);
    }

    public Task<T?> ScalarAsync<T>(string sql) => server.ScalarAsync<T>(database, sql);

    public Task ExecuteAsync(string sql) => server.ExecuteAsync(database, sql);

    /// <summary>Every row of a table as text, ordered, one line per row.</summary>
    public async Task<string> RowsAsync(string table, string orderBy) =>
        await ScalarAsync<string>($"SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY {orderBy}), '') FROM {table} t") ?? "";

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}

/// <summary>Builders for plans and changes as a change source and the planner would give them.</summary>
internal static class Apply
{
    public static readonly object Unchanged = new();

    public static ReplicationTiming Timing { get; } = new()
    {
        StopPollInterval = TimeSpan.FromMilliseconds(50),
        InitialBackoff = TimeSpan.FromMilliseconds(5),
        MaxBackoff = TimeSpan.FromMilliseconds(50),
    };

    public static ILogger Log { get; } = new LoggerConfiguration().CreateLogger();

    /// <summary>A plan for an existing target table named like the source one; columns as (name, target type).</summary>
    public static TablePlan Plan(string schema, string name, IReadOnlyList<string> primaryKey, params (string Name, string Type)[] columns)
    {
        var models = columns.Select((c, i) => new ColumnModel(c.Name, i + 1, new ColumnType(c.Type, c.Type), !primaryKey.Contains(c.Name))).ToList();
        var table = new TableModel(new TableName(schema, name), models, primaryKey);
        return new TablePlan(table, table.Name, models.Select(m => new TargetColumn(m, m.Name, new TargetType(m.Type.Name, m.Type.Name, true), m.IsNullable)).ToList(),
            primaryKey);
    }

    public static ChangeTable Table(TablePlan plan, bool full = false) =>
        new(plan.Source.Name, plan.Source.Columns.Select(c => c.Name).ToList(), full ? plan.Source.Columns.Select(c => c.Name).ToList() : plan.Source.PrimaryKey)
        {
            MatchesByAllColumns = full,
        };

    public static RowImage Image(params object?[] values) =>
        new(values.Select(v => v == Unchanged ? null : v).ToList(), values.Select(v => v == Unchanged ? ColumnValueState.Unchanged : ColumnValueState.Present).ToList());

    public static RowChange Insert(ChangeTable table, params object?[] values) =>
        new(table, RowChangeKind.Insert) { New = Image(values), Key = KeyOf(table, values) };

    public static RowChange Update(ChangeTable table, object?[] key, params object?[] values) =>
        new(table, RowChangeKind.Update) { New = Image(values), Key = key };

    public static RowChange Delete(ChangeTable table, params object?[] key) => new(table, RowChangeKind.Delete) { Key = key };

    private static object?[] KeyOf(ChangeTable table, object?[] values) =>
        table.KeyColumns.Select(k => values[table.Columns.ToList().IndexOf(k)]).ToArray();

    public static CockroachDialect CockroachTarget { get; } = new(MissingPrimaryKey.Refuse);
}
