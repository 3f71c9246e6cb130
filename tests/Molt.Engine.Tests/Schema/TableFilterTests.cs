using Molt.Engine.Schema;

namespace Molt.Engine.Tests.Schema;

public sealed class TableFilterTests
{
    private static readonly TableName Film = new("public", "film");
    private static readonly TableName FilmActor = new("public", "film_actor");
    private static readonly TableName AuditLog = new("audit", "Log");

    [Fact]
    public void EmptyFilterSelectsEverything() => Assert.True(TableFilter.All.Matches(AuditLog));

    [Fact]
    public void WildcardsMatchBareAndQualifiedNamesCaseInsensitively()
    {
        var filter = new TableFilter(tables: ["film*", "AUDIT.log"]);
        Assert.True(filter.Matches(Film));
        Assert.True(filter.Matches(FilmActor));
        Assert.True(filter.Matches(AuditLog));
        Assert.False(filter.Matches(new TableName("public", "actor")));
    }

    [Fact]
    public void ExclusionAndSchemaFiltersApply()
    {
        var filter = new TableFilter(schemas: ["pub*"], excludedTables: ["*_actor"]);
        Assert.True(filter.Matches(Film));
        Assert.False(filter.Matches(FilmActor));
        Assert.False(filter.Matches(AuditLog));
        Assert.Equal("-Schema pub* -ExcludeTable *_actor", filter.ToString());
    }

    [Fact]
    public void BracketsAndEscapesWork()
    {
        Assert.True(new TableFilter(tables: ["f[a-i]lm"]).Matches(Film));
        Assert.False(new TableFilter(tables: ["film`*"]).Matches(FilmActor));
        Assert.True(new TableFilter(tables: ["film`*"]).Matches(new TableName("public", "film*")));
    }
}
