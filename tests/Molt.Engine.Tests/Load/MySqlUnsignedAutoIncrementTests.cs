using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Tests.Verify;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Load;

[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlUnsignedAutoIncrementTests(MySqlSourceFixture fixture)
{
    // numeric(20,0), which holds BIGINT UNSIGNED, cannot be a PostgreSQL identity: a sequence numbers it instead, which stops at bigint's maximum.
    [Fact]
    public async Task ABigintUnsignedAutoIncrementKeyLoadsEveryRowAndIsNumberedByASequenceUpToBigintsMaximum()
    {
        var database = $"vauto_{Guid.NewGuid():N}"[..16];
        await fixture.Source.CreateDatabaseAsync(database);
        await fixture.Source.ExecuteAsync(database, """
            CREATE TABLE events (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT);
            INSERT INTO events (id, v) VALUES (1, 1), (18446744073709551615, 2);
            """);
        var target = await fixture.NewTargetAsync("vauto");

        var (_, _, tables, log) = await LoadHarness.LoadAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target),
            new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate });

        Assert.Equal(2L, Assert.Single(tables).Rows);
        Assert.DoesNotContain(log, l => l.Contains("not carried over", StringComparison.Ordinal));
        var (compared, _) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target), new CompareOptions());
        Assert.Equal(ComparisonStatus.Equal, Assert.Single(compared).Status);
        Assert.Equal("9223372036854775807", await fixture.Target.ScalarAsync<string>(target, "INSERT INTO events (v) VALUES (3) RETURNING id::text"));
        var beyond = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => fixture.Target.ScalarAsync<string>(target, "INSERT INTO events (v) VALUES (4) RETURNING id::text"));
        Assert.Equal("2200H", beyond.SqlState);
    }
}
