using System.Text.Json;
using Molt.Engine.Logging;

namespace Molt.Engine.Tests.Logging;

public sealed class MoltLogSessionTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("molt-log-").FullName;

    [Fact]
    public void ALogPathInAMissingFolderIsRefusedWhenTheSessionOpensAndTheFolderIsNotCreated()
    {
        var missing = Path.Combine(folder, "missing", "run.jsonl");
        var error = Assert.Throws<MoltException>(() => new MoltLogSession(filePath: missing).Dispose());
        Assert.Equal("LogPathNotWritable", error.ErrorId);
        Assert.Contains(missing, error.Message);
        Assert.NotNull(error.Remedy);
        Assert.False(Directory.Exists(Path.GetDirectoryName(missing)));
    }

    [Fact]
    public void ALogPathThatIsAFolderIsRefusedWhenTheSessionOpens()
    {
        var error = Assert.Throws<MoltException>(() => new MoltLogSession(filePath: folder).Dispose());
        Assert.Equal("LogPathNotWritable", error.ErrorId);
        Assert.Contains(folder, error.Message);
    }

    [Fact]
    public void AWriteThatFailsLaterIsReportedOnceAsAWarningAndNeverThrows()
    {
        // /dev/full opens like any file and fails every write with ENOSPC, as a full disk does.
        var events = new List<MoltLogEvent>();
        using (var log = new MoltLogSession(e => { lock (events) { events.Add(e); } }, "/dev/full"))
        {
            for (var i = 0; i < 5; i++)
            {
                log.Logger.Information("Copied {Rows} rows", i);
            }
        }

        var warning = Assert.Single(events, e => e.Level == MoltLogLevel.Warning);
        Assert.Contains("/dev/full", warning.Message);
        Assert.Equal(5, events.Count(e => e.Level == MoltLogLevel.Information));
    }

    [Fact]
    public void EachLineCarriesTheRenderedMessage()
    {
        var path = Path.Combine(folder, "run.jsonl");
        using (var log = new MoltLogSession(filePath: path))
        {
            log.Logger.Information("{Table}: {Rows} rows copied", "public.film", 1000);
        }

        using var line = JsonDocument.Parse(Assert.Single(File.ReadAllLines(path)));
        Assert.Equal("\"public.film\": 1000 rows copied", line.RootElement.GetProperty("@m").GetString());
        Assert.Equal("public.film", line.RootElement.GetProperty("Table").GetString());
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
