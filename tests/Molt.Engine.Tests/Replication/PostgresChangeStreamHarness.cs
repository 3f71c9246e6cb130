using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Endpoints.Postgres.Replication;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Testing;
using Npgsql;

namespace Molt.Engine.Tests.Replication;

/// <summary>A throwaway PostgreSQL server (wal_level = logical) shared by the change source tests; each test has its own database.</summary>
public sealed class PostgresReplicationFixture : IAsyncLifetime
{
    private int databases;

    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync(new PostgresServerOptions { LogicalReplication = true });

    public async Task<string> NewDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Interlocked.Increment(ref databases)}";
        await Server.CreateDatabaseAsync(name);
        return name;
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class PostgresReplicationCollection : ICollectionFixture<PostgresReplicationFixture>
{
    public const string Name = "postgres replication source";
}

/// <summary>
/// One database's replication set-up as Start-MoltReplication makes it: the planned tables read from the catalog, the
/// publication created first, then the slot, streaming from the slot's consistent point.
/// </summary>
internal sealed class ReplicationSetup : IAsyncDisposable
{
    private ReplicationSetup(PostgresServer server, string database, IReadOnlyList<TableModel> tables, string slot, string publication, PostgresLsn start)
    {
        Server = server;
        Database = database;
        Tables = tables;
        Slot = slot;
        Publication = publication;
        Start = start;
        Source = new PostgresChangeSource(Address, slot, publication);
    }

    public PostgresServer Server { get; }

    public string Database { get; }

    public IReadOnlyList<TableModel> Tables { get; }

    public string Slot { get; }

    public string Publication { get; }

    public PostgresLsn Start { get; }

    public PostgresChangeSource Source { get; }

    public EndpointAddress Address => EndpointAddress.Parse(Server.ConnectionUri(Database));

    public static async Task<ReplicationSetup> CreateAsync(PostgresServer server, string database, params string[] tables)
    {
        var address = EndpointAddress.Parse(server.ConnectionUri(database));
        await using var dataSource = Molt.Engine.Endpoints.PgWire.PgWireConnections.CreateDataSource(address);
        var planned = await new PostgresCatalogReader(dataSource).ReadTablesAsync(new TableFilter(tables: tables), CancellationToken.None);
        Assert.Equal(tables.Length, planned.Count);
        var slot = $"molt_{Guid.NewGuid():N}"[..24];
        var publication = PostgresPublication.DefaultName(Guid.NewGuid().ToString("D"));
        await using var connection = await dataSource.OpenConnectionAsync();
        await PostgresPublication.EnsureAsync(connection, publication, planned, CancellationToken.None);
        await using var command = new NpgsqlCommand($"SELECT lsn::text FROM pg_create_logical_replication_slot('{slot}', 'pgoutput')", connection);
        var start = PostgresLsn.Parse((string)(await command.ExecuteScalarAsync())!);
        return new ReplicationSetup(server, database, planned, slot, publication, start);
    }

    public Task<IChangeStream> StartAsync(SourcePosition? from = null) => Source.StartAsync(from ?? Start, Tables, CancellationToken.None);

    public Task ExecuteAsync(string sql) => Server.ExecuteAsync(Database, sql);

    public Task<T?> ScalarAsync<T>(string sql) => Server.ScalarAsync<T>(Database, sql);

    public async Task<PostgresLsn?> ConfirmedFlushAsync() =>
        await ScalarAsync<string>($"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '{Slot}'") is { } text ? PostgresLsn.Parse(text) : null;

    public async ValueTask DisposeAsync()
    {
        await Source.DisposeAsync();
        await using var connection = new NpgsqlConnection(Server.ConnectionString(Database));
        await connection.OpenAsync();
        await PostgresPublication.DropAsync(connection, Slot, Publication, CancellationToken.None);
    }
}

/// <summary>Reads a stream transaction by transaction; a read that takes minutes means the change never came (a hang guard, not a timing test).</summary>
internal sealed class ChangeReader(IChangeStream stream) : IAsyncDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(3);

    private readonly CancellationTokenSource cancel = new();
    private IAsyncEnumerator<Change>? enumerator;
    private Task<bool>? pending;

    public IChangeStream Stream => stream;

    /// <summary>Begin, the changes, Commit of the next transaction delivered.</summary>
    public async Task<Transaction> NextTransactionAsync()
    {
        var begin = Assert.IsType<BeginChange>(await NextAsync());
        var changes = new List<Change>();
        while (true)
        {
            var change = await NextAsync();
            if (change is CommitChange commit)
            {
                return new Transaction(begin, changes, commit);
            }

            Assert.IsNotType<BeginChange>(change);
            changes.Add(change);
        }
    }

    public async Task<Change> NextAsync()
    {
        enumerator ??= stream.ReadAsync(cancel.Token).GetAsyncEnumerator(cancel.Token);
        pending ??= enumerator.MoveNextAsync().AsTask();
        var task = pending;
        pending = null;
        var more = await task.WaitAsync(HangGuard);
        Assert.True(more, "The stream ended.");
        return enumerator.Current;
    }

    /// <summary>Starts waiting for the next change without taking it, so the stream reads keepalives meanwhile.</summary>
    public void WaitInBackground()
    {
        enumerator ??= stream.ReadAsync(cancel.Token).GetAsyncEnumerator(cancel.Token);
        pending ??= enumerator.MoveNextAsync().AsTask();
    }

    /// <summary>Whether a change arrives within <paramref name="wait"/> (used to show that none does).</summary>
    public async Task<bool> ArrivesWithinAsync(TimeSpan wait)
    {
        WaitInBackground();
        return await Task.WhenAny(pending!, Task.Delay(wait)) == pending;
    }

    public async ValueTask DisposeAsync()
    {
        await cancel.CancelAsync();
        if (pending is not null)
        {
            try
            {
                await pending;
            }
            catch (Exception)
            {
                // Cancelled, or failed as a test expected: the stream is disposed either way.
            }
        }

        if (enumerator is not null)
        {
            await enumerator.DisposeAsync();
        }

        await stream.DisposeAsync();
        cancel.Dispose();
    }
}

internal sealed record Transaction(BeginChange Begin, IReadOnlyList<Change> Changes, CommitChange Commit)
{
    public IEnumerable<RowChange> Rows => Changes.OfType<RowChange>();

    public PostgresLsn Position => (PostgresLsn)Commit.Position;
}
