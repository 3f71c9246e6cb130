namespace Molt.Testing;

public sealed class MariaDbServerOptions
{
    /// <summary>--log-bin into the server's folder when true, --skip-log-bin when false.</summary>
    public bool BinaryLog { get; init; } = true;

    public string BinlogFormat { get; init; } = "ROW";

    public string BinlogRowImage { get; init; } = "FULL";

    public bool GtidStrictMode { get; init; } = true;

    /// <summary>More server options (name to value), passed as --name=value after the defaults so they win.</summary>
    public IReadOnlyDictionary<string, string>? ExtraSettings { get; init; }
}
