using System.Globalization;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Replication;
using Molt.Engine.Tests.Load;
using Npgsql;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// Serialization failures produced for real: PostgreSQL raises CockroachDB's SQLSTATE 40001 when two SERIALIZABLE
/// transactions each read what the other writes.
/// </summary>
[Collection(PostgresSourceCollection.Name)]
public sealed class TransactionRetryTests(PostgresSourceFixture fixture)
{
    [Fact]
    public async Task ATransactionAbortedByAConflictIsRunAgainAndCommits()
    {
        var database = await NewLedgerAsync();
        var conflicts = 1;
        var (total, attempts) = await new TransactionRetry(initialDelay: TimeSpan.FromMilliseconds(1)).RunAsync(
            ct => AppendTotalAsync(database, conflictFirst: Interlocked.Decrement(ref conflicts) >= 0, ct), CancellationToken.None);

        Assert.Equal(2, attempts);
        // The conflicting writer's row (1) came first; the retried transaction saw it and appended its own total after.
        Assert.Equal(1L, total);
        Assert.Equal("1,1", await fixture.Server.ScalarAsync<string>(database, "SELECT string_agg(v::text, ',' ORDER BY id) FROM ledger"));
    }

    [Fact]
    public async Task ConflictsOnEveryAttemptEndInAClearError()
    {
        var database = await NewLedgerAsync();
        var error = await Assert.ThrowsAsync<MoltException>(() => new TransactionRetry(maxAttempts: 3, initialDelay: TimeSpan.FromMilliseconds(1))
            .RunAsync(ct => AppendTotalAsync(database, conflictFirst: true, ct), CancellationToken.None));

        Assert.Equal("TransactionRetriesExhausted", error.ErrorId);
        Assert.Contains("3 times", error.Message);
        Assert.Equal(TransactionRetry.SerializationFailure, Assert.IsType<PostgresException>(error.InnerException).SqlState);
    }

    [Fact]
    public async Task OtherErrorsAreNotRetried()
    {
        var attempts = 0;
        await Assert.ThrowsAsync<PostgresException>(() => new TransactionRetry().RunAsync<int>(async ct =>
        {
            attempts++;
            await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString("postgres"));
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT 1 / 0", connection);
            return (int)(await command.ExecuteScalarAsync(ct))!;
        }, CancellationToken.None));
        Assert.Equal(1, attempts);
    }

    private async Task<string> NewLedgerAsync()
    {
        var database = await fixture.NewDatabaseAsync("retry");
        await fixture.Server.ExecuteAsync(database, "CREATE TABLE ledger (id serial PRIMARY KEY, v bigint NOT NULL)");
        return database;
    }

    /// <summary>
    /// Reads the ledger's total and appends it, SERIALIZABLE. With <paramref name="conflictFirst"/>, another transaction
    /// does the same between this one's read and its write and commits first: a read-write cycle PostgreSQL aborts.
    /// </summary>
    private async Task<long> AppendTotalAsync(string database, bool conflictFirst, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString(database));
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, ct);
        var total = await TotalAsync(connection, ct);
        if (conflictFirst)
        {
            await using var other = new NpgsqlConnection(fixture.Server.ConnectionString(database));
            await other.OpenAsync(ct);
            await using var otherTransaction = await other.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, ct);
            await AppendAsync(other, await TotalAsync(other, ct) + 1, ct);
            await otherTransaction.CommitAsync(ct);
        }

        await AppendAsync(connection, total, ct);
        await transaction.CommitAsync(ct);
        return total;
    }

    private static async Task<long> TotalAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce(sum(v), 0) FROM ledger", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    private static async Task AppendAsync(NpgsqlConnection connection, long value, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("INSERT INTO ledger (v) VALUES ($1)", connection) { Parameters = { new() { Value = value } } };
        await command.ExecuteNonQueryAsync(ct);
    }
}
