namespace Molt.Testing;

/// <summary>The public sample databases the repository carries in data/ (see its README), loaded as they are.</summary>
public static class SampleData
{
    /// <summary>Overrides the folder, for programs that do not run from inside the repository.</summary>
    public const string EnvironmentVariable = "MOLT_SAMPLE_DATA";

    /// <summary>$MOLT_SAMPLE_DATA when set, otherwise data/ in the repository (the first folder holding Molt.sln above this assembly, which
    /// also finds it when pwsh, installed elsewhere, loads the assembly by path).</summary>
    public static string DataDirectory
    {
        get
        {
            var overridden = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrEmpty(overridden))
            {
                return Path.GetFullPath(overridden);
            }

            var start = Path.GetDirectoryName(typeof(SampleData).Assembly.Location) ?? AppContext.BaseDirectory;
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "Molt.sln")))
                {
                    var data = Path.Combine(folder.FullName, "data");
                    return Directory.Exists(data) ? data : throw new DirectoryNotFoundException($"{data} (the repository's sample data) is missing.");
                }
            }

            throw new DirectoryNotFoundException($"No Molt.sln above {start}; set {EnvironmentVariable} to the sample data folder.");
        }
    }

    /// <summary>Creates <paramref name="database"/> and loads the Pagila schema and data into it with psql.</summary>
    public static async Task LoadPagilaAsync(PostgresServer server, string database = "pagila", CancellationToken ct = default)
    {
        var folder = Path.Combine(DataDirectory, "pagila");
        await server.CreateDatabaseAsync(database, ct).ConfigureAwait(false);
        await server.RunPsqlFileAsync(database, Path.Combine(folder, "pagila-schema.sql"), ct).ConfigureAwait(false);
        await server.RunPsqlFileAsync(database, Path.Combine(folder, "pagila-data.sql"), ct).ConfigureAwait(false);
    }

    /// <summary>Loads Sakila with the mariadb client; the schema file creates the database `sakila`.</summary>
    public static async Task LoadSakilaAsync(MariaDbServer server, CancellationToken ct = default)
    {
        var folder = Path.Combine(DataDirectory, "sakila");
        await server.RunClientFileAsync(null, Path.Combine(folder, "sakila-schema.sql"), ct).ConfigureAwait(false);
        await server.RunClientFileAsync(null, Path.Combine(folder, "sakila-data.sql"), ct).ConfigureAwait(false);
    }
}
