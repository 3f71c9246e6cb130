using System.Data.Common;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Molt.Engine.Endpoints;

/// <summary>
/// Where a database is and how to log in, parsed from a connection URI (<c>postgres://</c>, <c>postgresql://</c>,
/// <c>cockroachdb://</c>, <c>mysql://</c>, <c>mariadb://</c>) or a plain connection string.
/// The password is held privately: <see cref="ToString"/> and <see cref="Display"/> never show it.
/// </summary>
public sealed partial class EndpointAddress
{
    private readonly string? password;

    private EndpointAddress(EndpointKind kind, string host, int port, string database, string? user, string? password,
        IReadOnlyDictionary<string, string> options)
    {
        Kind = kind;
        Host = host;
        Port = port;
        Database = database;
        User = user;
        this.password = password;
        Options = options;
    }

    /// <summary>The product the address names; a pgwire address that turns out to be CockroachDB is refined on connect.</summary>
    public EndpointKind Kind { get; }

    public string Host { get; }

    public int Port { get; }

    public string Database { get; }

    public string? User { get; }

    public bool HasPassword => !string.IsNullOrEmpty(password);

    /// <summary>Driver options from the URI query or the connection string (sslmode, application_name, ...).</summary>
    public IReadOnlyDictionary<string, string> Options { get; }

    /// <summary>The address as a URI without the password, safe for logs, progress and errors.</summary>
    public string Display
    {
        get
        {
            var scheme = Kind switch
            {
                EndpointKind.Postgres => "postgres",
                EndpointKind.CockroachDb => "cockroachdb",
                EndpointKind.MySql => "mysql",
                _ => "mariadb",
            };
            var builder = new StringBuilder(scheme).Append("://");
            if (!string.IsNullOrEmpty(User))
            {
                builder.Append(Uri.EscapeDataString(User)).Append('@');
            }

            builder.Append(Host.Contains(':') ? $"[{Host}]" : Host).Append(':').Append(Port).Append('/').Append(Uri.EscapeDataString(Database));
            if (Options.Count > 0)
            {
                builder.Append('?').AppendJoin('&', Options.Select(o => $"{Uri.EscapeDataString(o.Key)}={Uri.EscapeDataString(o.Value)}"));
            }

            return builder.ToString();
        }
    }

    public override string ToString() => Display;

    /// <summary>The password, for the driver factories of this assembly only.</summary>
    internal string? Password => password;

    /// <summary>The same address with another kind, once the server has said what it really is.</summary>
    public EndpointAddress WithKind(EndpointKind kind) =>
        kind == Kind ? this : new EndpointAddress(kind, Host, Port, Database, User, password, Options);

    /// <summary>The same server with another database selected.</summary>
    public EndpointAddress WithDatabase(string database) =>
        new(Kind, Host, Port, database, User, password, Options);

    /// <summary>
    /// Parses a connection URI or a plain connection string. A credential, when given, replaces any user and
    /// password in the text. A plain connection string is read with Npgsql's keywords unless it names
    /// <c>Engine=MySQL</c>, <c>Engine=MariaDB</c> or <c>Engine=CockroachDB</c>.
    /// </summary>
    public static EndpointAddress Parse(string text, NetworkCredential? credential = null)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw Invalid("The connection address is empty.");
        }

        var trimmed = text.Trim();
        var address = SchemeSeparator().IsMatch(trimmed) ? ParseUri(trimmed) : ParseConnectionString(trimmed);
        if (credential is not null && !string.IsNullOrEmpty(credential.UserName))
        {
            address = new EndpointAddress(address.Kind, address.Host, address.Port, address.Database, credential.UserName,
                credential.Password, address.Options);
        }

        return address;
    }

    private static EndpointAddress ParseUri(string text)
    {
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        var scheme = text[..schemeEnd].ToLowerInvariant();
        var kind = scheme switch
        {
            "postgres" or "postgresql" => EndpointKind.Postgres,
            "cockroachdb" or "cockroach" or "crdb" => EndpointKind.CockroachDb,
            "mysql" => EndpointKind.MySql,
            "mariadb" => EndpointKind.MariaDb,
            _ => throw new MoltException(MoltErrorKind.InvalidArgument, "UnknownScheme",
                $"The connection scheme '{scheme}://' is not one Molt knows.",
                "Use postgres://, postgresql://, cockroachdb://, mysql:// or mariadb://, or a plain connection string."),
        };

        // MOLT's MySQL form wraps the host in tcp(...): accept it so existing runbooks keep working.
        var normalized = GoTcpHost().Replace(text[(schemeEnd + 3)..], "@$1/");
        Uri uri;
        try
        {
            uri = new Uri("molt://" + normalized, UriKind.Absolute);
        }
        catch (UriFormatException)
        {
            throw Invalid($"'{Redact(text)}' is not a valid connection URI.",
                "Percent-encode special characters in the user name and password, or pass the password with -SourceCredential / -TargetCredential.");
        }

        string? user = null;
        string? password = null;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }

        var host = uri.Host.Trim('[', ']');
        if (host.Length == 0)
        {
            throw Invalid($"The connection URI '{Redact(text)}' names no host.");
        }

        var port = uri.IsDefaultPort || uri.Port < 0 ? DefaultPort(kind) : uri.Port;
        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length == 0)
        {
            database = DefaultDatabase(kind);
        }

        var options = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            if (key.Equals("password", StringComparison.OrdinalIgnoreCase))
            {
                password = value;
            }
            else if (key.Equals("user", StringComparison.OrdinalIgnoreCase))
            {
                user = value;
            }
            else
            {
                options[key] = value;
            }
        }

        return new EndpointAddress(kind, host, port, database, user, password, options);
    }

    private static EndpointAddress ParseConnectionString(string text)
    {
        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = text;
        }
        catch (ArgumentException)
        {
            throw Invalid("The connection text is neither a URI (scheme://...) nor a valid 'Key=Value;...' connection string.",
                "Use a URI such as postgres://user@host:5432/db or a connection string such as 'Host=...;Database=...'.");
        }

        var kind = EndpointKind.Postgres;
        if (builder.TryGetValue("Engine", out var engine))
        {
            kind = ParseEngine(Convert.ToString(engine) ?? string.Empty);
            builder.Remove("Engine");
        }

        string? Take(params string[] keys)
        {
            foreach (var key in keys)
            {
                if (builder.TryGetValue(key, out var value))
                {
                    builder.Remove(key);
                    return Convert.ToString(value);
                }
            }

            return null;
        }

        var host = Take("Host", "Server", "Data Source", "DataSource", "Address") ?? "localhost";
        var portText = Take("Port");
        var database = Take("Database", "Initial Catalog", "Db") ?? DefaultDatabase(kind);
        var user = Take("Username", "User Id", "UserId", "User", "Uid", "User Name", "UserName");
        var password = Take("Password", "Pwd");
        var port = DefaultPort(kind);
        if (portText is not null && (!int.TryParse(portText, out port) || port is <= 0 or > 65535))
        {
            throw Invalid($"The port '{portText}' is not a number from 1 to 65535.");
        }

        var options = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string key in builder.Keys)
        {
            options[key] = Convert.ToString(builder[key]) ?? string.Empty;
        }

        return new EndpointAddress(kind, host, port, database, user, password, options);
    }

    private static EndpointKind ParseEngine(string engine) => engine.Trim().ToLowerInvariant() switch
    {
        "postgres" or "postgresql" => EndpointKind.Postgres,
        "cockroachdb" or "cockroach" or "crdb" => EndpointKind.CockroachDb,
        "mysql" => EndpointKind.MySql,
        "mariadb" => EndpointKind.MariaDb,
        _ => throw Invalid($"Engine='{engine}' is not a database Molt knows.", "Use PostgreSQL, CockroachDB, MySQL or MariaDB."),
    };

    private static int DefaultPort(EndpointKind kind) => kind switch
    {
        EndpointKind.Postgres => 5432,
        EndpointKind.CockroachDb => 26257,
        _ => 3306,
    };

    private static string DefaultDatabase(EndpointKind kind) => kind switch
    {
        EndpointKind.Postgres => "postgres",
        EndpointKind.CockroachDb => "defaultdb",
        _ => string.Empty,
    };

    /// <summary>Removes the password from a connection URI or connection string, for messages about text we could not parse.</summary>
    public static string Redact(string text)
    {
        return SchemeSeparator().IsMatch(text.Trim())
            ? QueryPassword().Replace(UriPassword().Replace(text, "$1:***@"), "$1=***")
            : KeywordPassword().Replace(text, "$1=***");
    }

    private static MoltException Invalid(string message, string? remedy = null) =>
        new(MoltErrorKind.InvalidArgument, "InvalidConnectionAddress", message, remedy);

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*://")]
    private static partial Regex SchemeSeparator();

    [GeneratedRegex(@"@tcp\(([^)]*)\)/?")]
    private static partial Regex GoTcpHost();

    [GeneratedRegex(@"(://[^:/@\s]*):[^@/\s]*@")]
    private static partial Regex UriPassword();

    [GeneratedRegex(@"(?i)\b(password|pwd)\s*=\s*[^;]*")]
    private static partial Regex KeywordPassword();

    [GeneratedRegex(@"(?i)([?&]password)=[^&]*")]
    private static partial Regex QueryPassword();
}
