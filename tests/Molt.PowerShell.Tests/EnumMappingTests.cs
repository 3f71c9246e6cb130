using System.Reflection;

namespace Molt.PowerShell.Tests;

/// <summary>
/// The module's enums and the engine's types they stand for are mapped by member name (Molt.EnumMappings): a member
/// added on one side only would fail at run time, so every pair is compared here. The mappings are read from the
/// imported module by reflection, which also loads the engine into Molt's own context as a user's session does.
/// </summary>
public sealed class EnumMappingTests
{
    [Fact]
    public void EveryMappedPairHasTheSameMemberNamesOnBothSides()
    {
        var mappings = Mappings();

        Assert.NotEmpty(mappings);
        foreach (var mapping in mappings)
        {
            var module = Read<IReadOnlyList<string>>(mapping, "ModuleNames").Except(Read<IReadOnlySet<string>>(mapping, "ModuleOnly"));
            var engine = Read<IReadOnlyList<string>>(mapping, "EngineNames");
            var pair = $"{Read<Type>(mapping, "Module")} and {Read<Type>(mapping, "Engine")}";
            Assert.True(engine.Count > 0, $"{pair}: the engine side has no members");
            Assert.Empty(engine.Where(e => !module.Contains(e, StringComparer.OrdinalIgnoreCase)).Select(e => $"{pair}: engine member {e} is missing in the module"));
            Assert.Empty(module.Where(m => !engine.Contains(m, StringComparer.OrdinalIgnoreCase)).Select(m => $"{pair}: module member {m} is missing in the engine"));
        }
    }

    [Fact]
    public void EveryEnumTheModuleShowsHasAMappingToTheEngine()
    {
        var mapped = Mappings().Select(m => Read<Type>(m, "Module")).ToHashSet();
        var moduleEnums = ModuleAssembly().GetExportedTypes().Where(t => t.IsEnum && t.Namespace == "Molt");

        Assert.Empty(moduleEnums.Where(t => !mapped.Contains(t)).Select(t => $"{t} has no entry in Molt.EnumMappings"));
    }

    [Fact]
    public void AMemberOnOneSideOnlyIsFoundByTheComparison()
    {
        var mappingType = ModuleAssembly().GetType("Molt.EnumMapping`2", throwOnError: true)!;
        var mismatched = Activator.CreateInstance(mappingType.MakeGenericType(typeof(Seasons), typeof(SeasonsWithoutWinter)))!;

        var module = Read<IReadOnlyList<string>>(mismatched, "ModuleNames");
        var engine = Read<IReadOnlyList<string>>(mismatched, "EngineNames");
        Assert.Equal(["Winter"], module.Except(engine));
    }

    private enum Seasons
    {
        Spring,
        Summer,
        Autumn,
        Winter,
    }

    private enum SeasonsWithoutWinter
    {
        Spring,
        Summer,
        Autumn,
    }

    private static List<object> Mappings() =>
        ModuleAssembly().GetType("Molt.EnumMappings", throwOnError: true)!.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => f.GetValue(null)!).ToList();

    private static T Read<T>(object mapping, string property) =>
        (T)mapping.GetType().GetProperty(property, BindingFlags.Public | BindingFlags.Instance)!.GetValue(mapping)!;

    /// <summary>The cmdlet assembly as Import-Module loaded it, with the engine resolved into Molt's load context.</summary>
    private static Assembly ModuleAssembly()
    {
        using var session = new MoltSession();
        return session.Invoke("[Molt.LoadStatus].Assembly").Objects<Assembly>().Single();
    }
}
