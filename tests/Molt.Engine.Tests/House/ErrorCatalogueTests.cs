namespace Molt.Engine.Tests.House;

public sealed class ErrorCatalogueTests
{
    [Fact]
    public void Every_error_id_raised_in_src_has_a_row_in_the_README_and_every_test_a_row_names_exists_and_mentions_the_id()
    {
        var rows = ErrorCatalogue.ReadTable(File.ReadAllText(Path.Combine(Root, "README.md")));
        var problems = ErrorCatalogue.Problems(ErrorCatalogue.ErrorIdsIn(Path.Combine(Root, "src")), rows, ErrorCatalogue.TestsIn(Path.Combine(Root, "tests")));
        Assert.True(problems.Count == 0, "The README's error table has drifted:" + Environment.NewLine + string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void The_checker_finds_the_ids_and_tests_it_guards()
    {
        // A checker that found nothing would pass whatever the README says.
        var ids = ErrorCatalogue.ErrorIdsIn(Path.Combine(Root, "src"));
        Assert.Contains("ConnectionFailed", ids);
        Assert.Contains("LogPathNotWritable", ids);
        Assert.Contains("FetchRunNotFound", ids);
        Assert.Contains("BinlogPositionPurged", ids);
        Assert.True(ids.Count > 80, $"only {ids.Count} ids found");
        var tests = ErrorCatalogue.TestsIn(Path.Combine(Root, "tests"));
        Assert.Contains(tests, t => t.Name == nameof(The_checker_finds_the_ids_and_tests_it_guards));
        Assert.Contains(tests, t => t.Name == "fails on a wrong target password before anything is written, never showing it");
    }

    [Fact]
    public void An_unlisted_id_a_stale_row_a_missing_test_and_a_test_that_never_names_its_id_are_each_reported()
    {
        const string readme = """
            # Molt

            ## Errors Molt promises
            | Error id | Kind | Flow | Tests |
            |---|---|---|---|
            | `Listed` | InvalidArgument | bulk load | `A_test_that_asserts_it` |
            | `Gone` | NotFound | compare | not tested |
            | `Missing` | NotFound | compare | `No_such_test` |
            | `Unnamed` | NotFound | compare | `A_test_that_asserts_it` |

            ## Next
            | `Ignored` | x | y | not tested |
            """;
        var rows = ErrorCatalogue.ReadTable(readme.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Equal(["Listed", "Gone", "Missing", "Unnamed"], rows.Select(r => r.ErrorId));
        Assert.Empty(rows[1].Tests);
        var tests = new[] { new ErrorCatalogue.TestCase("A_test_that_asserts_it", "T.cs", "Assert.Equal(\"Listed\", e.ErrorId);") };
        var problems = ErrorCatalogue.Problems(["Listed", "Missing", "Unnamed", "New"], rows, tests);
        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("New is raised", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Gone is no longer raised", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("no test is named 'No_such_test'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("never mentions Unnamed", StringComparison.Ordinal));
    }

    /// <summary>The repository: the first folder holding Molt.sln above this assembly.</summary>
    private static string Root
    {
        get
        {
            var start = Path.GetDirectoryName(typeof(ErrorCatalogueTests).Assembly.Location) ?? AppContext.BaseDirectory;
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "Molt.sln")))
                {
                    return folder.FullName;
                }
            }

            throw new DirectoryNotFoundException($"No Molt.sln above {start}.");
        }
    }
}
