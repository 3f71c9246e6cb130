using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Molt.Engine.Sessions;
using Molt.Testing;
using MySqlConnector;
using Npgsql;

namespace Molt.Engine.Tests.Replication;

/// <summary>
/// A MariaDB source with what the binlog stream needs (log_bin, ROW format, FULL row image, FULL row metadata, CRC32
/// checksums, GTIDs in strict mode) and a PostgreSQL target; a database on each per test.
/// </summary>
public sealed class MySqlReplicationFixture : IAsyncLifetime
{
    private int databases;

    public MariaDbServer Source { get; private set; } = null!;

    public PostgresServer Target { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var source = MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            BinlogRowImage = "FULL",
            ExtraSettings = new Dictionary<string, string> { ["binlog-row-metadata"] = "FULL", ["binlog-checksum"] = "CRC32" },
        });
        // Every cutover (a stop request) leaves a failback slot on the target until the test removes it: room for the whole collection's.
        var target = PostgresServer.StartAsync(new PostgresServerOptions { MaxReplicationSlots = 40 });
        Source = await source;
        Target = await target;
    }

    /// <summary>A source database made with <paramref name="schemaSql"/> and an empty target database.</summary>
    internal async Task<MySqlStreamCase> NewCaseAsync(string prefix, string schemaSql)
    {
        var number = Interlocked.Increment(ref databases);
        var source = $"{prefix}_{number}";
        var target = $"{prefix}_dst_{number}";
        await Source.CreateDatabaseAsync(source);
        await Source.ExecuteAsync(source, schemaSql);
        await Target.CreateDatabaseAsync(target);
        await Target.ExecuteAsync("postgres", $"ALTER DATABASE \"{target}\" SET TimeZone = 'UTC'");
        return new MySqlStreamCase(this, source, target);
    }

    public async Task DisposeAsync()
    {
        await Source.DisposeAsync();
        await Target.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class MySqlReplicationCollection : ICollectionFixture<MySqlReplicationFixture>
{
    public const string Name = "mysql replication";
}

/// <summary>One test's source and target databases, and the session calls the tests make on them.</summary>
internal sealed class MySqlStreamCase(MySqlReplicationFixture fixture, string sourceDatabase, string targetDatabase)
{
    public string SourceDatabase => sourceDatabase;

    public string TargetDatabase => targetDatabase;

    public EndpointAddress SourceAddress => EndpointAddress.Parse(fixture.Source.ConnectionUri(sourceDatabase));

    public EndpointAddress TargetAddress => EndpointAddress.Parse(fixture.Target.ConnectionUri(targetDatabase));

    public string SourceUri => fixture.Source.ConnectionUri(sourceDatabase);

    public string TargetUri => fixture.Target.ConnectionUri(targetDatabase);

    public static ReplicationOptions Options(string fetchId) => new()
    {
        FetchId = fetchId,
        Load = new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate },
        StatusInterval = TimeSpan.FromMilliseconds(200),
    };

    public Task SourceAsync(string sql) => fixture.Source.ExecuteAsync(sourceDatabase, sql);

    public Task<T?> SourceScalarAsync<T>(string sql) => fixture.Source.ScalarAsync<T>(sourceDatabase, sql);

    public Task TargetAsync(string sql) => fixture.Target.ExecuteAsync(targetDatabase, sql);

    public Task<T?> TargetScalarAsync<T>(string sql) => fixture.Target.ScalarAsync<T>(targetDatabase, sql);

    /// <summary>Every row of a source table, each value in a form both sides print alike, one line per row in key order.</summary>
    public async Task<string> SourceRowsAsync(string sql)
    {
        await using var connection = new MySqlConnection(fixture.Source.ConnectionString(sourceDatabase));
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        return await RowText.ReadAsync(reader);
    }

    /// <summary>The same for the target table.</summary>
    public async Task<string> TargetRowsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.Target.ConnectionString(targetDatabase));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        return await RowText.ReadAsync(reader);
    }

    /// <summary>Opens a session, starts it and waits until its load is done and it streams; the stream goes on in the returned task.</summary>
    public async Task<(ReplicationSession Session, Task<ReplicationStatus> Running)> StartAsync(ReplicationOptions options, CancellationToken cancellationToken)
    {
        var session = await ReplicationSession.OpenAsync(SourceAddress, TargetAddress, options, MoltLogSession.None(), cancellationToken);
        var states = new List<ReplicationState>();
        BulkLoadSummary? loaded = null;
        var plan = await session.PlanAsync(cancellationToken);
        var running = session.StartAsync(plan, new BulkLoadCallbacks(), summary => loaded = summary, new StateReports(states), cancellationToken);
        await SessionTestSupport.WaitUntilAsync(() =>
        {
            lock (states)
            {
                return Task.FromResult(states.Contains(ReplicationState.Streaming) || running.IsCompleted);
            }
        });
        Assert.False(running.IsFaulted, running.Exception?.ToString());
        Assert.Equal(RunStatus.Succeeded, loaded!.Status);
        return (session, running);
    }

    /// <summary>Resumes the stream and lets it stop once caught up.</summary>
    public async Task<ReplicationStatus> ResumeToEndAsync(ReplicationOptions options, CancellationToken cancellationToken)
    {
        await using var session = await ReplicationSession.OpenAsync(SourceAddress, TargetAddress, options with { StopWhenCaughtUp = true }, MoltLogSession.None(),
            cancellationToken);
        return await session.ResumeAsync(null, cancellationToken);
    }
}

/// <summary>Rows as text: numbers, dates and bytes printed alike whichever driver read them.</summary>
internal static class RowText
{
    public static async Task<string> ReadAsync(System.Data.Common.DbDataReader reader)
    {
        var lines = new List<string>();
        while (await reader.ReadAsync())
        {
            var values = new string[reader.FieldCount];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = reader.IsDBNull(i) ? "NULL" : Text(reader.GetValue(i));
            }

            lines.Add(string.Join("|", values));
        }

        return string.Join("\n", lines);
    }

    private static string Text(object value) => value switch
    {
        DateTime at => at.ToString("yyyy-MM-dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToHexString(bytes),
        IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
