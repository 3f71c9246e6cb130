using System.Text.RegularExpressions;

namespace Molt.Engine.Tests.House;

/// <summary>
/// The README's "Errors Molt promises" table against the sources and the tests: every error id the sources can raise has
/// a row, every row's id is still raised, and every test a row names exists in a test file that mentions the id.
/// </summary>
internal static partial class ErrorCatalogue
{
    /// <summary>The heading of the README section that holds the table.</summary>
    public const string Heading = "## Errors Molt promises";

    /// <summary>What a row's test cell says when no test asserts the id yet.</summary>
    public const string Untested = "not tested";

    /// <summary>One row of the table: the id, the flows that raise it, and the tests that assert it (none when <see cref="Untested"/>).</summary>
    public sealed record Row(string ErrorId, string Flow, IReadOnlyList<string> Tests, int Line);

    /// <summary>A test: its name (an xunit method, a Pester It) and the text of the file that holds it.</summary>
    public sealed record TestCase(string Name, string File, string FileText);

    /// <summary>
    /// The error ids raised under <paramref name="src"/>: a MoltException's (its kind then its id), an error record's a
    /// cmdlet writes itself, and the binlog client's (they reach the user through BinlogStreamErrors with their own id).
    /// </summary>
    public static SortedSet<string> ErrorIdsIn(string src)
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in SourceFiles(src, "*.cs"))
        {
            var text = File.ReadAllText(file);
            foreach (var pattern in new[] { MoltExceptionId(), ErrorRecordId(), BinlogErrorId() })
            {
                foreach (Match match in pattern.Matches(text))
                {
                    ids.Add(match.Groups["id"].Value);
                }
            }
        }

        return ids;
    }

    /// <summary>The rows of the table under <see cref="Heading"/> in <paramref name="readme"/>'s text.</summary>
    public static List<Row> ReadTable(string readme)
    {
        var lines = readme.Split('\n');
        var start = Array.FindIndex(lines, l => l.TrimEnd() == Heading);
        if (start < 0)
        {
            throw new InvalidDataException($"The README has no '{Heading}' section.");
        }

        var rows = new List<Row>();
        for (var i = start + 1; i < lines.Length && !lines[i].StartsWith("## ", StringComparison.Ordinal); i++)
        {
            var cells = lines[i].Trim().Split('|');
            // A row is | `Id` | kind | flow | tests |: five separators' worth of cells, the first and last empty.
            if (cells.Length != 6 || !cells[1].Trim().StartsWith('`'))
            {
                continue;
            }

            var id = cells[1].Trim().Trim('`');
            var testCell = cells[4].Trim();
            var tests = testCell == Untested
                ? []
                : TestName().Matches(testCell).Select(m => m.Groups["name"].Value).ToList();
            rows.Add(new Row(id, cells[3].Trim(), tests, i + 1));
        }

        return rows;
    }

    /// <summary>Every test under <paramref name="tests"/>: xunit methods marked [Fact] or [Theory], and Pester It blocks.</summary>
    public static List<TestCase> TestsIn(string tests)
    {
        var cases = new List<TestCase>();
        foreach (var file in SourceFiles(tests, "*.cs"))
        {
            var text = File.ReadAllText(file);
            cases.AddRange(XunitTest().Matches(text).Select(m => new TestCase(m.Groups["name"].Value, file, text)));
        }

        foreach (var file in SourceFiles(tests, "*.Tests.ps1"))
        {
            var text = File.ReadAllText(file);
            cases.AddRange(PesterTest().Matches(text).Select(m => new TestCase(m.Groups["name"].Value.Replace("''", "'", StringComparison.Ordinal), file, text)));
        }

        return cases;
    }

    /// <summary>What is wrong with the table: ids without a row, rows of ids no longer raised, tests that do not exist or do not mention the id.</summary>
    public static List<string> Problems(IReadOnlyCollection<string> raised, IReadOnlyList<Row> rows, IReadOnlyList<TestCase> tests)
    {
        var problems = new List<string>();
        var byName = tests.ToLookup(t => t.Name, StringComparer.Ordinal);
        var listed = rows.Select(r => r.ErrorId).ToHashSet(StringComparer.Ordinal);
        problems.AddRange(raised.Where(id => !listed.Contains(id)).Select(id => $"{id} is raised in src/ but has no row in the README's table."));
        foreach (var duplicate in rows.GroupBy(r => r.ErrorId, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"{duplicate.Key} has {duplicate.Count()} rows (README lines {string.Join(", ", duplicate.Select(r => r.Line))}).");
        }

        foreach (var row in rows)
        {
            if (!raised.Contains(row.ErrorId))
            {
                problems.Add($"README line {row.Line}: {row.ErrorId} is no longer raised anywhere in src/.");
            }

            foreach (var name in row.Tests)
            {
                var found = byName[name].ToList();
                if (found.Count == 0)
                {
                    problems.Add($"README line {row.Line}: no test is named '{name}'.");
                }
                else if (!found.Any(t => Regex.IsMatch(t.FileText, $@"\b{Regex.Escape(row.ErrorId)}\b")))
                {
                    problems.Add($"README line {row.Line}: '{name}' is in {Path.GetFileName(found[0].File)}, which never mentions {row.ErrorId}.");
                }
            }
        }

        return problems;
    }

    private static IEnumerable<string> SourceFiles(string root, string pattern) =>
        Directory.EnumerateFiles(root, pattern, SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    // new MoltException(MoltErrorKind.NotFound, "FetchRunNotFound", ...), new(kind, "LogPathNotWritable", ...), : MoltException(MoltErrorKind.X, "Id", ...).
    [GeneratedRegex(@"(?:MoltErrorKind\.\w+|\bkind)\s*,\s*""(?<id>[A-Z][A-Za-z]+)""")]
    private static partial Regex MoltExceptionId();

    // An error record a cmdlet makes itself: its id is the literal just before its category.
    [GeneratedRegex(@"""(?<id>[A-Z][A-Za-z]+)"",\s*ErrorCategory\.")]
    private static partial Regex ErrorRecordId();

    [GeneratedRegex(@"const string \w+ = ""(?<id>Binlog[A-Za-z]+)""")]
    private static partial Regex BinlogErrorId();

    [GeneratedRegex(@"\[(?:Fact|Theory)\b(?:[^\[\]]|\[[^\]]*\])*\](?:\s*\[(?:[^\[\]]|\[[^\]]*\])*\])*\s*public (?:async )?(?:Task|void) (?<name>\w+)\(")]
    private static partial Regex XunitTest();

    [GeneratedRegex(@"\bIt\s+'(?<name>(?:[^']|'')+)'")]
    private static partial Regex PesterTest();

    // A test cell names each test in backticks: `A_wrong_password_fails...`; `refuses <ErrorId> ...`.
    [GeneratedRegex(@"`(?<name>[^`]+)`")]
    private static partial Regex TestName();
}
