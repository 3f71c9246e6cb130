using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace Molt.PowerShell.Hosting;

/// <summary>
/// Routes the cmdlet assembly's reference to Molt.Engine into <see cref="MoltLoadContext"/> when the module is
/// imported. Only the engine is resolved here: everything the engine needs then loads through the engine's own
/// context, never the default one. This is the pattern PowerShell's documentation gives for binary modules
/// with conflicting dependencies.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    private const string EngineAssemblyName = "Molt.Engine";

    // A load context lives as long as the process; it must be created once however often the module is imported.
    private static readonly Lazy<MoltLoadContext> Context = new(() =>
        new MoltLoadContext(Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "Dependencies")));

    private static int registered;

    public void OnImport() => Register();

    internal static MoltLoadContext LoadContext => Context.Value;

    internal static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += ResolveEngine;
        }
    }

    private static Assembly? ResolveEngine(AssemblyLoadContext defaultContext, AssemblyName assemblyName) =>
        assemblyName.Name == EngineAssemblyName ? Context.Value.LoadFromAssemblyName(assemblyName) : null;
}
