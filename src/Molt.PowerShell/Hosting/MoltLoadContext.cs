using System.Reflection;
using System.Runtime.Loader;

namespace Molt.PowerShell.Hosting;

/// <summary>
/// The load context that holds Molt's engine and every assembly it depends on (Npgsql, MySqlConnector, Serilog),
/// loaded from the module's Dependencies folder, so that another module shipping other versions of those
/// libraries can live in the same PowerShell session.
/// </summary>
internal sealed class MoltLoadContext : AssemblyLoadContext
{
    private readonly string dependencyDirectory;

    public MoltLoadContext(string dependencyDirectory)
        : base("Molt", isCollectible: false)
    {
        this.dependencyDirectory = dependencyDirectory;
    }

    public string DependencyDirectory => dependencyDirectory;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(dependencyDirectory, assemblyName.Name + ".dll");
        // Anything not shipped in Dependencies (the framework, netstandard) comes from the default context.
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
