namespace Molt.Engine.Tests.House;

public sealed class DependencyRulesTests
{
    [Fact]
    public void The_sources_keep_every_rule_of_the_house()
    {
        var violations = DependencyRules.CheckTree(Src);
        Assert.True(violations.Count == 0, "The house's rules are broken:" + Environment.NewLine + string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void The_checker_reads_the_engine_sources_it_guards()
    {
        // A checker that found no files would pass whatever the sources do.
        var files = Directory.EnumerateFiles(Path.Combine(Src, "Molt.Engine"), "*.cs", SearchOption.AllDirectories).ToList();
        Assert.Contains(files, f => f.EndsWith(Path.Combine("Load", "BulkLoader.cs"), StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith(Path.Combine("Sessions", "DatabaseRegistry.cs"), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Molt.Engine/Load/Loader.cs", "using Molt.Engine.Endpoints.Postgres;", "a flow knows interfaces only")]
    [InlineData("Molt.Engine/Replication/Loop.cs", "using Molt.Engine.Endpoints.PgWire;", "a flow knows interfaces only")]
    [InlineData("Molt.Engine/Verify/Comparer.cs", "var sentinel = options.ZeroDates == Endpoints.MySql.ZeroDateHandling.Sentinel;", "a flow knows interfaces only")]
    [InlineData("Molt.Engine/Checks/Check.cs", "var reader = new Molt.Engine.Endpoints.Cockroach.CockroachDialect();", "a flow knows interfaces only")]
    [InlineData("Molt.Engine/Metrics/Sink.cs", "using Molt.Engine.Endpoints.PgWire;", "a flow knows interfaces only")]
    [InlineData("Molt.Engine/Logging/Sink.cs", "using Molt.Engine.Metrics;", "below the flows and the endpoints")]
    [InlineData("Molt.Engine/Endpoints/Postgres/Prerequisites.cs", "using Molt.Engine.Endpoints.Cockroach;", "one database folder names no other")]
    [InlineData("Molt.Engine/Endpoints/PgWire/Shared.cs", "using Molt.Engine.Endpoints.Postgres;", "one database folder names no other")]
    [InlineData("Molt.Engine/Load/Reset.cs", "var dependents = kind == EndpointKind.CockroachDb ? a : b;", "only Sessions (and the address syntax) tells databases apart")]
    [InlineData("Molt.Engine/Endpoints/MySql/Snapshot.cs", "return mariaDb ? EndpointKind.MariaDb : EndpointKind.MySql;", "only Sessions (and the address syntax) tells databases apart")]
    [InlineData("Molt.PowerShell/Cmdlets/Command.cs", "if (address.Kind == EndpointKind.Postgres)", "only Sessions (and the address syntax) tells databases apart")]
    [InlineData("Molt.Engine/State/Reader.cs", "using Molt.Engine.Endpoints;", "State is given a data source")]
    [InlineData("Molt.MySqlBinlog/Events/RowsEvent.cs", "using Molt.Engine.Schema;", "it references no Molt code")]
    [InlineData("Molt.Engine/Schema/Plan.cs", "public Molt.Engine.Load.KeyRange Range { get; }", "below the flows and the endpoints")]
    [InlineData("Molt.Engine/State/Records.cs", "using Molt.Engine.Load;", "below the flows and the endpoints")]
    [InlineData("Molt.Engine/Logging/Sink.cs", "using Molt.Engine.Verify;", "below the flows and the endpoints")]
    [InlineData("Molt.Engine/Schema/Model.cs", "using Molt.Engine.State;", "State is built on Schema")]
    [InlineData("Molt.Engine/Load/Loader.cs", "using Molt.Engine.Sessions;", "only the PowerShell module names Sessions")]
    [InlineData("Molt.Engine/Endpoints/ConnectionErrors.cs", "using Molt.Engine.Endpoints.MySql;", "the address syntax in Endpoints/ names nothing")]
    public void A_source_that_breaks_a_rule_is_named_with_its_file_line_and_rule(string path, string line, string rule)
    {
        var text = $"using System;\n\nnamespace Molt.Engine.Somewhere;\n\n{line}\n";
        var violation = Assert.Single(DependencyRules.Check(path, text));
        Assert.Equal(path, violation.File);
        Assert.Equal(5, violation.Line);
        Assert.Contains(rule, violation.Rule);
    }

    [Theory]
    [InlineData("Molt.Engine/Endpoints/MySql/Writers.cs", "using Molt.Engine.Endpoints.PgWire;")]
    [InlineData("Molt.Engine/Endpoints/Cockroach/Dialect.cs", "using static Molt.Engine.Endpoints.PgWire.PgWireSyntax;")]
    [InlineData("Molt.Engine/Endpoints/Postgres/Source.cs", "using Molt.Engine.Load;")]
    [InlineData("Molt.Engine/Sessions/Registry.cs", "[EndpointKind.CockroachDb] = new() { Prerequisites = CockroachPrerequisites.CheckAsync },")]
    [InlineData("Molt.Engine/Endpoints/EndpointAddress.cs", "\"cockroachdb\" or \"crdb\" => EndpointKind.CockroachDb,")]
    [InlineData("Molt.Engine/Load/Loader.cs", "using Molt.Engine.Endpoints;")]
    [InlineData("Molt.Engine/Verify/Comparer.cs", "using Molt.Engine.Load;")]
    [InlineData("Molt.Engine/Metrics/MoltMetrics.cs", "using Molt.Engine.Replication;")]
    [InlineData("Molt.Engine/State/Store.cs", "using Molt.Engine.Schema;")]
    [InlineData("Molt.PowerShell/Cmdlets/Command.cs", "using Molt.Engine.Sessions;")]
    [InlineData("Molt.MySqlBinlog/Events/RowsEvent.cs", "using Molt.MySqlBinlog.Protocol;")]
    [InlineData("Molt.Engine/Load/Loader.cs", "throw new Engine.MoltException(kind, id, message, remedy);")]
    public void A_source_that_follows_the_arrows_passes(string path, string line) =>
        Assert.Empty(DependencyRules.Check(path, $"namespace Molt.Engine.Somewhere;\n\n{line}\n"));

    [Fact]
    public void A_namespace_declaration_is_not_a_dependency() =>
        Assert.Empty(DependencyRules.Check("Molt.Engine/Schema/Model.cs", "namespace Molt.Engine.Load;\n"));

    /// <summary>src/ of the repository: the first folder holding Molt.sln above this assembly, as SampleData finds data/.</summary>
    private static string Src
    {
        get
        {
            var start = Path.GetDirectoryName(typeof(DependencyRulesTests).Assembly.Location) ?? AppContext.BaseDirectory;
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "Molt.sln")))
                {
                    return Path.Combine(folder.FullName, "src");
                }
            }

            throw new DirectoryNotFoundException($"No Molt.sln above {start}.");
        }
    }
}
