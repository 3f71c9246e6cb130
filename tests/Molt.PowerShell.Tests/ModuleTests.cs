using System.Management.Automation;

namespace Molt.PowerShell.Tests;

public sealed class ModuleTests
{
    [Fact]
    public void ModuleImportsAndExportsItsCmdlets()
    {
        using var session = new MoltSession();
        var result = session.Invoke("Get-Command -Module Molt");
        var names = result.Output.Select(o => ((CommandInfo)o.BaseObject).Name).ToList();
        Assert.Contains("Test-MoltConnection", names);
        Assert.All(result.Output.Select(o => (CommandInfo)o.BaseObject), c => Assert.Equal(CommandTypes.Cmdlet, c.CommandType));
    }

    [Fact]
    public void UnknownSchemeIsAnInvalidArgumentErrorWithoutStackTrace()
    {
        using var session = new MoltSession();
        var result = session.Invoke("Test-MoltConnection -Source 'oracle://scott:tiger@db:1521/orcl'");
        var error = Assert.Single(result.Errors);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.StartsWith("UnknownScheme,", error.FullyQualifiedErrorId);
        Assert.Contains("postgres://", error.ToString());
        Assert.DoesNotContain("   at ", error.ToString());
        Assert.DoesNotContain("tiger", result.AllText());
    }
}
