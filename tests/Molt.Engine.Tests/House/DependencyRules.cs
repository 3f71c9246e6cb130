using System.Text.RegularExpressions;

namespace Molt.Engine.Tests.House;

/// <summary>One broken rule: the file (relative to src/), its line, and which rule.</summary>
internal sealed record DependencyViolation(string File, int Line, string Rule)
{
    public override string ToString() => $"{File}:{Line}: {Rule}";
}

/// <summary>
/// The house's rules, read from source text: the <c>using</c> lines and the Molt namespaces a line names in full
/// (<c>Molt.Engine.Load.X</c>) or by a parent-relative name (<c>Engine.Load.X</c>, <c>Endpoints.MySql.X</c>). Arrows run
/// one way: PowerShell -> Sessions -> Endpoints -> the flows' contracts -> Schema/State/Logging. No tool draws C#
/// imports, so this is how the house stays true.
/// </summary>
internal static partial class DependencyRules
{
    /// <summary>The flows, and Metrics, which observes them and so stands where they do.</summary>
    private static readonly HashSet<string> Flows = ["Load", "Replication", "Verify", "Checks", "Metrics"];

    /// <summary>The engine's folders; a name outside them is a type of the root namespace (MoltException), which all may use.</summary>
    private static readonly HashSet<string> Folders = ["Load", "Replication", "Verify", "Checks", "Metrics", "Schema", "State", "Logging", "Sessions", "Endpoints"];

    private static readonly HashSet<string> Databases = ["PgWire", "Postgres", "MySql", "Cockroach"];

    /// <summary>The address syntax, which alone besides Sessions may spell out the database kinds (scheme names, default ports).</summary>
    private static readonly HashSet<string> AddressSyntax = ["Molt.Engine/Endpoints/EndpointAddress.cs", "Molt.Engine/Endpoints/EndpointKind.cs"];

    /// <summary>Checks one file; <paramref name="path"/> is relative to src/ with forward slashes (Molt.Engine/Load/BulkLoader.cs).</summary>
    public static IReadOnlyList<DependencyViolation> Check(string path, string text)
    {
        var area = Area.Of(path);
        var violations = new List<DependencyViolation>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (NamespaceDeclaration().IsMatch(line))
            {
                continue;
            }

            foreach (var named in NamedAreas(line, area))
            {
                if (Broken(area, named) is { } rule)
                {
                    violations.Add(new DependencyViolation(path, i + 1, rule));
                }
            }

            if (area.Project == "Molt.MySqlBinlog" && OtherMoltNamespace().Match(line) is { Success: true } molt)
            {
                violations.Add(new DependencyViolation(path, i + 1, $"Molt.MySqlBinlog names {molt.Value}: it references no Molt code"));
            }

            if (KindMember().Match(line) is { Success: true } kind && area.Folder != "Sessions" && !AddressSyntax.Contains(path))
            {
                violations.Add(new DependencyViolation(path, i + 1,
                    $"{area} mentions {kind.Value}: only Sessions (and the address syntax) tells databases apart; use a capability of the interface"));
            }
        }

        return violations;
    }

    /// <summary>Checks every .cs file under <paramref name="src"/> (build output aside).</summary>
    public static IReadOnlyList<DependencyViolation> CheckTree(string src) =>
        Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(src, file).Replace('\\', '/'))
            .Where(file => !file.Split('/').Any(part => part is "obj" or "bin"))
            .Order(StringComparer.Ordinal)
            .SelectMany(file => Check(file, File.ReadAllText(Path.Combine(src, file))))
            .ToList();

    private static string? Broken(Area from, Area to)
    {
        if (from.Project != "Molt.Engine" || !Folders.Contains(from.Folder) || !Folders.Contains(to.Folder)
            || (from.Folder == to.Folder && from.Database == to.Database))
        {
            return null;
        }

        if (to.Folder == "Sessions" && from.Folder != "Sessions")
        {
            return $"{from} names {to}: only the PowerShell module names Sessions (the composition roots)";
        }

        if (Flows.Contains(from.Folder) && to.Database is not null)
        {
            return $"{from} names {to}: a flow knows interfaces only, never a database's namespace";
        }

        if (from.Database is { } database && to.Database is { } other && other != "PgWire")
        {
            return $"{from} names {to}: one database folder names no other (PgWire aside)";
        }

        if (from.Folder == "State" && to.Folder == "Endpoints")
        {
            return $"{from} names {to}: State is given a data source, it never opens an address";
        }

        if (from.Folder is "Schema" or "State" or "Logging" && (Flows.Contains(to.Folder) || to.Folder == "Endpoints"))
        {
            return $"{from} names {to}: Schema, State and Logging are below the flows and the endpoints";
        }

        if (from.Folder is "Schema" or "Logging" && to.Folder == "State")
        {
            return $"{from} names {to}: State is built on Schema, not the other way";
        }

        if (from.Folder == "Endpoints" && from.Database is null && (to.Folder != "Endpoints" || to.Database is not null))
        {
            return $"{from} names {to}: the address syntax in Endpoints/ names nothing (everything above may use it)";
        }

        return null;
    }

    /// <summary>The Molt areas a line names: using lines and qualified names alike.</summary>
    private static IEnumerable<Area> NamedAreas(string line, Area area)
    {
        foreach (Match match in EngineName().Matches(line))
        {
            yield return Area.OfNamespace(match.Groups["path"].Value);
        }

        if (area.Project == "Molt.Engine")
        {
            foreach (Match match in RelativeDatabaseName().Matches(line))
            {
                yield return Area.OfNamespace("Endpoints." + match.Groups["db"].Value);
            }
        }
    }

    [GeneratedRegex(@"^\s*namespace\s")]
    private static partial Regex NamespaceDeclaration();

    // Molt.Engine.Load, Engine.Load (from inside Molt.*): the first segments after Engine name the area.
    [GeneratedRegex(@"(?<![\w.])(?:Molt\.)?Engine\.(?<path>[A-Z]\w*(?:\.[A-Z]\w*)?)")]
    private static partial Regex EngineName();

    // Endpoints.MySql.X from inside Molt.Engine, which resolves without a using.
    [GeneratedRegex(@"(?<![\w.])Endpoints\.(?<db>PgWire|Postgres|MySql|Cockroach)\b")]
    private static partial Regex RelativeDatabaseName();

    [GeneratedRegex(@"\bMolt\.(?!MySqlBinlog\b)[A-Z]\w*")]
    private static partial Regex OtherMoltNamespace();

    [GeneratedRegex(@"\bEndpointKind\.[A-Z]\w*")]
    private static partial Regex KindMember();

    /// <summary>Where a file lives or what a name points at: project, top folder of the engine, and database folder under Endpoints/.</summary>
    private sealed record Area(string Project, string Folder, string? Database)
    {
        public static Area Of(string path)
        {
            var parts = path.Split('/');
            if (parts[0] != "Molt.Engine" || parts.Length < 3)
            {
                return new Area(parts[0], parts.Length > 2 ? parts[1] : "", null);
            }

            return new Area(parts[0], parts[1], parts[1] == "Endpoints" && parts.Length > 3 && Databases.Contains(parts[2]) ? parts[2] : null);
        }

        /// <summary>An engine namespace below Molt.Engine (Load, Endpoints.MySql, or a type in the root such as MoltException).</summary>
        public static Area OfNamespace(string path)
        {
            var parts = path.Split('.');
            return new Area("Molt.Engine", parts[0], parts[0] == "Endpoints" && parts.Length > 1 && Databases.Contains(parts[1]) ? parts[1] : null);
        }

        public override string ToString() => Database is null ? Folder : $"{Folder}/{Database}";
    }
}
