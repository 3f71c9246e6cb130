using System.Text.Json;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.Logging;
using Molt.Engine.Schema;
using Molt.Engine.Sessions;
using Molt.Engine.Tests.Load;

namespace Molt.Engine.Tests.Logging;

[Collection(PostgresSourceCollection.Name)]
public sealed class LoadLogTests(PostgresSourceFixture fixture)
{
    [Fact]
    public async Task EveryLineALoadLogsWhileItRunsNamesItsFetchId()
    {
        var target = await fixture.NewDatabaseAsync("log_fetch_id");
        var path = Path.Combine(Path.GetTempPath(), $"molt-{Guid.NewGuid():N}.jsonl");
        try
        {
            string fetchId;
            using (var log = new MoltLogSession(filePath: path, minimumLevel: MoltLogLevel.Debug))
            {
                await using var session = await BulkLoadSession.OpenAsync(EndpointAddress.Parse(Uri("pagila")), EndpointAddress.Parse(Uri(target)),
                    new BulkLoadOptions { TableHandling = TableHandling.DropAndRecreate, Filter = new TableFilter(tables: ["actor"]) }, new SourceOptions(), log,
                    CancellationToken.None);
                var plan = await session.PlanAsync(CancellationToken.None);
                fetchId = (await session.ExecuteAsync(plan, new BulkLoadCallbacks(), CancellationToken.None)).FetchId;
            }

            var lines = File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            var targetStatements = lines.Where(l => l.GetProperty("@m").GetString()!.StartsWith("Target: ", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(targetStatements);
            Assert.All(targetStatements, l => Assert.Equal(fetchId, l.GetProperty("FetchId").GetString()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private string Uri(string database) => fixture.Server.ConnectionUri(database);
}
