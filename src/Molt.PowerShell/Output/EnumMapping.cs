using System.Reflection;

namespace Molt;

/// <summary>
/// A pair of an engine type and the module's enum of the same members, mapped by member name so that neither depends
/// on the other's numbering. The module has enums of its own because PowerShell reads the cmdlets' parameter types
/// before the engine's load context exists. <see cref="EnumMappings"/> lists every pair; a test checks their names.
/// </summary>
internal abstract class NameMapping(Type module, Type engine, IEnumerable<string> moduleOnly)
{
    public Type Module { get; } = module;

    /// <summary>An engine enum, or a static class whose string constants are the engine's status texts.</summary>
    public Type Engine { get; } = engine;

    /// <summary>Members of the module's enum that this engine type never produces (a table's load is never Running).</summary>
    public IReadOnlySet<string> ModuleOnly { get; } = moduleOnly.ToHashSet(StringComparer.Ordinal);

    public IReadOnlyList<string> ModuleNames => Enum.GetNames(Module);

    public IReadOnlyList<string> EngineNames => Engine.IsEnum
        ? Enum.GetNames(Engine)
        : Engine.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToList();

    /// <summary>The one conversion: the member of <typeparamref name="TTo"/> named <paramref name="name"/>, in any casing.</summary>
    protected TTo Named<TTo>(string name)
        where TTo : struct, Enum =>
        Enum.TryParse<TTo>(name, ignoreCase: true, out var value) && Enum.IsDefined(value)
            ? value
            : throw new InvalidOperationException($"{Module} and {Engine} are mapped by name, but {typeof(TTo)} has no member '{name}'.");
}

/// <summary>A parameter's enum, given to the engine as the engine enum's member of the same name.</summary>
internal sealed class EnumMapping<TModule, TEngine>() : NameMapping(typeof(TModule), typeof(TEngine), [])
    where TModule : struct, Enum
    where TEngine : struct, Enum
{
    public TEngine ToEngine(TModule value) => Named<TEngine>(value.ToString());
}

/// <summary>An engine status text (a constant of <see cref="NameMapping.Engine"/>, in the casing it is stored in) as the module's enum.</summary>
internal sealed class StatusMapping<TModule>(Type constants, params TModule[] moduleOnly)
    : NameMapping(typeof(TModule), constants, moduleOnly.Select(m => m.ToString()))
    where TModule : struct, Enum
{
    public TModule ToModule(string status) => Named<TModule>(status);
}
