using Molt.Engine.Load;
using Molt.Engine.Schema;
using Molt.Engine.Tests.Verify;
using Molt.Engine.Verify;

namespace Molt.Engine.Tests.Load;

[Collection(MySqlSourceCollection.Name)]
public sealed class MySqlUnsignedAutoIncrementTests(MySqlSourceFixture fixture)
{
    // numeric(20,0), which holds BIGINT UNSIGNED, cannot be a PostgreSQL identity: the column is created without one, and the log says so.
    [Fact]
    public async Task ABigintUnsignedAutoIncrementKeyLoadsEveryRowAndSaysItsIdentityWasNotKept()
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
        Assert.Contains(log, l => l.Contains("identity of id", StringComparison.Ordinal) && l.Contains("numeric(20,0)", StringComparison.Ordinal));
        var (compared, _) = await CompareHarness.CompareAsync(fixture.Source.ConnectionUri(database), fixture.Target.ConnectionUri(target), new CompareOptions());
        Assert.Equal(ComparisonStatus.Equal, Assert.Single(compared).Status);
    }
}
