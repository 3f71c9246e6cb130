using MySqlConnector;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>Builds MySqlConnector connections for MySQL and MariaDB addresses.</summary>
internal static class MySqlConnections
{
    private static readonly Dictionary<string, string> UriKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SslMode",
        ["ssl-mode"] = "SslMode",
        ["tls"] = "SslMode",
        ["sslca"] = "SslCa",
        ["ssl-ca"] = "SslCa",
        ["sslcert"] = "SslCert",
        ["ssl-cert"] = "SslCert",
        ["sslkey"] = "SslKey",
        ["ssl-key"] = "SslKey",
        ["connect_timeout"] = "ConnectionTimeout",
        ["charset"] = "CharacterSet",
    };

    public static MySqlConnectionStringBuilder Builder(EndpointAddress address)
    {
        if (!address.Kind.IsMySqlFamily())
        {
            throw new ArgumentException($"{address.Kind.DisplayName()} is not a MySQL-family database.", nameof(address));
        }

        var builder = new MySqlConnectionStringBuilder
        {
            Server = address.Host,
            Port = (uint)address.Port,
            Database = address.Database,
            ApplicationName = "molt",
            // A pooled connection would stay open on the server after the cmdlet that opened it ends, holding whatever
            // session state it had; Molt opens few connections, each for one piece of work.
            Pooling = false,
            // Values are moved as stored: CHAR(36) stays text, TINYINT(1) stays a number, zero dates reach the reader.
            GuidFormat = MySqlGuidFormat.None,
            TreatTinyAsBoolean = false,
            AllowZeroDateTime = true,
            ConvertZeroDateTime = false,
            DefaultCommandTimeout = 0,
            ConnectionTimeout = 15,
            // MySQL 8's caching_sha2_password over a non-TLS connection needs the server's RSA key.
            AllowPublicKeyRetrieval = true,
            CharacterSet = "utf8mb4",
        };
        if (address.User is not null)
        {
            builder.UserID = address.User;
        }

        if (address.Password is not null)
        {
            builder.Password = address.Password;
        }

        foreach (var (key, value) in address.Options)
        {
            var keyword = UriKeywords.GetValueOrDefault(key, key);
            try
            {
                builder[keyword] = keyword == "SslMode" ? UriSslMode(value) : value;
            }
            catch (ArgumentException)
            {
                throw new MoltException(MoltErrorKind.InvalidArgument, "InvalidConnectionOption",
                    $"The connection option '{key}={(EndpointAddress.IsSecretOption(key) ? "***" : value)}' is not one MySQL connections accept.",
                    "Check the spelling; sslmode (disable, preferred, require, verify-ca, verify-full), sslca, sslcert, sslkey and MySqlConnector keywords are accepted.");
            }
        }

        return builder;
    }

    /// <summary>Whether a MySQL-protocol server's version string is MariaDB's ("10.11.6-MariaDB"): the one place that tells them apart.</summary>
    public static bool IsMariaDb(string serverVersion) => serverVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);

    /// <summary>The server's version string, as <see cref="IsMariaDb"/> reads it.</summary>
    public static async Task<string> ServerVersionAsync(EndpointAddress address, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(address, cancellationToken).ConfigureAwait(false);
        return connection.ServerVersion;
    }

    public static Task<MySqlConnection> OpenAsync(EndpointAddress address, CancellationToken cancellationToken) =>
        OpenAsync(address, commandTimeoutSeconds: 0, cancellationToken);

    /// <summary>A connection whose commands give up after <paramref name="commandTimeoutSeconds"/> (0: never, as bulk reads need).</summary>
    public static async Task<MySqlConnection> OpenAsync(EndpointAddress address, int commandTimeoutSeconds, CancellationToken cancellationToken)
    {
        var builder = Builder(address);
        builder.DefaultCommandTimeout = (uint)commandTimeoutSeconds;
        var connection = new MySqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw ConnectionErrors.Translate(ex, address);
        }
    }

    private static string UriSslMode(string value) => value.ToLowerInvariant() switch
    {
        "disable" or "disabled" or "false" or "none" => "None",
        "prefer" or "preferred" => "Preferred",
        "require" or "required" or "true" => "Required",
        "verify-ca" or "verifyca" => "VerifyCA",
        "verify-full" or "verifyfull" or "verify_identity" => "VerifyFull",
        _ => value,
    };
}
