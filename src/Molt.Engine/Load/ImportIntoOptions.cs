namespace Molt.Engine.Load;

/// <summary>
/// Load through CockroachDB's IMPORT INTO instead of COPY, as MOLT Fetch can: each shard is written as a CSV file into
/// <see cref="Directory"/>, which the cluster's nodes read at <see cref="BaseUrl"/> (cloud storage the folder is
/// synchronised to, a file server the user runs, or the one Molt starts on <see cref="ListenAddress"/>).
/// </summary>
/// <param name="Directory">Where Molt writes the files (a subfolder per run).</param>
/// <param name="BaseUrl">The same folder as CockroachDB reaches it, e.g. http://molt-host:3000 or s3://bucket/path?AUTH=implicit.</param>
/// <param name="ListenAddress">host:port on which Molt serves <paramref name="Directory"/> over HTTP during the load, or null.</param>
public sealed record ImportIntoOptions(string Directory, string BaseUrl, string? ListenAddress = null)
{
    /// <summary>
    /// The options from a host's parameters; null without <paramref name="directory"/>. A URL is needed unless Molt serves
    /// the folder on an address the nodes can use as it is.
    /// </summary>
    /// <exception cref="MoltException">A URL or listen address without a folder, or no way for the nodes to reach the files.</exception>
    public static ImportIntoOptions? From(string? directory, string? baseUrl, string? listenAddress)
    {
        if (directory is null)
        {
            return baseUrl is null && listenAddress is null ? null
                : throw new MoltException(MoltErrorKind.InvalidArgument, "ImportNeedsPath",
                    "-ImportUrl and -ImportListenAddress describe where IMPORT INTO reads the files that -ImportPath names.",
                    "Add -ImportPath with a folder for the files, or leave the import parameters out to load with COPY.");
        }

        if (baseUrl is null && (listenAddress is null || listenAddress.StartsWith("0.0.0.0:", StringComparison.Ordinal)))
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "ImportNeedsUrl",
                "IMPORT INTO needs a URL at which every CockroachDB node can read the files of -ImportPath.",
                "Add -ImportUrl (e.g. http://this-host:3000 with -ImportListenAddress 0.0.0.0:3000, or the cloud storage URL the folder is copied to).");
        }

        return new ImportIntoOptions(Path.GetFullPath(directory), baseUrl ?? $"http://{listenAddress}", listenAddress);
    }

    /// <summary>The URL CockroachDB reads one file from; the query string (credentials of cloud storage) stays at the end.</summary>
    public string UrlOf(string relativePath)
    {
        var query = BaseUrl.IndexOf('?', StringComparison.Ordinal);
        var (path, suffix) = query < 0 ? (BaseUrl, "") : (BaseUrl[..query], BaseUrl[query..]);
        return $"{path.TrimEnd('/')}/{relativePath}{suffix}";
    }
}
