using System.Management.Automation;
using System.Runtime.Loader;
using Molt.Testing;

namespace Molt.PowerShell.Tests;

/// <summary>
/// The one check that needs the host's own view of the process: the engine and its drivers load into Molt's load
/// context, beside other versions of the same libraries in the default one (the rest of the PowerShell surface is
/// tested with Pester, in tests/Pester).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ModuleLoadContextTests(ServerFixture servers)
{
    [Fact]
    public void EngineAndItsDependenciesLoadIntoMoltsOwnContext()
    {
        using var session = new MoltSession();
        var uri = servers.Postgres.ConnectionUri(user: servers.Postgres.AdminUser, password: string.Empty).Replace(":@", "@");
        var result = session.Invoke("Test-MoltConnection -Source $args[0] -SourceCredential $args[1] -For BulkLoad", uri,
            MoltSession.Credential(servers.Postgres.AdminUser, servers.Postgres.AdminPassword));
        Assert.Empty(result.Errors);

        var molt = Assert.Single(AssemblyLoadContext.All, c => c.Name == "Molt");
        var moltAssemblies = molt.Assemblies.Select(a => a.GetName().Name).ToList();
        Assert.Contains("Molt.Engine", moltAssemblies);
        Assert.Contains("Npgsql", moltAssemblies);
        Assert.Contains("Serilog", moltAssemblies);
        Assert.DoesNotContain(AssemblyLoadContext.Default.Assemblies, a => a.GetName().Name == "Molt.Engine");

        // The test process itself uses another Npgsql (through Molt.Testing) in the default context: both coexist.
        var testsNpgsql = typeof(Npgsql.NpgsqlConnection).Assembly;
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(testsNpgsql));
        Assert.NotSame(testsNpgsql, molt.Assemblies.Single(a => a.GetName().Name == "Npgsql"));
    }
}
