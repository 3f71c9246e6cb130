using System.Globalization;
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
        IReadOnlyDictionary<string, string> options, EndpointRole? role)
    {
        Role = role;
        Kind = kind;
        Host = host;
        Port = port;
        Database = database;
        User = user;
        this.password = password;
        Options = options;
    }

    /// <summary>The side of the migration this address was given for, when known; errors about it name that side.</summary>
    public EndpointRole? Role { get; }

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
                builder.Append('?').AppendJoin('&', Options.Select(o =>
                    $"{Uri.EscapeDataString(o.Key)}={(IsSecretOption(o.Key) ? Hidden : Uri.EscapeDataString(o.Value))}"));
            }

            return builder.ToString();
        }
    }

    /// <summary>The side and the address without its password ("target postgres://app@db:5432/shop"): what an error about this endpoint is about.</summary>
    public string Label => Role is { } role ? $"{role.Label()} {Display}" : Display;

    public override string ToString() => Display;

    /// <summary>The password, for the driver factories of this assembly only.</summary>
    internal string? Password => password;

    /// <summary>The same address with another kind, once the server has said what it really is.</summary>
    public EndpointAddress WithKind(EndpointKind kind) =>
        kind == Kind ? this : new EndpointAddress(kind, Host, Port, Database, User, password, Options, Role);

    /// <summary>The same server with another database selected.</summary>
    public EndpointAddress WithDatabase(string database) =>
        new(Kind, Host, Port, database, User, password, Options, Role);

    /// <summary>
    /// Parses a connection URI or a plain connection string. A credential, when given, replaces any user and
    /// password in the text. A plain connection string is read with Npgsql's keywords unless it names
    /// <c>Engine=MySQL</c>, <c>Engine=MariaDB</c> or <c>Engine=CockroachDB</c>. The role, when given, is the side
    /// the address is for: errors about the address, and later about its server, name it.
    /// </summary>
    public static EndpointAddress Parse(string text, NetworkCredential? credential = null, EndpointRole? role = null)
    {
        var errors = new AddressErrors(role, text ?? string.Empty);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw errors.Invalid($"The {errors.Side}connection address is empty.");
        }

        var trimmed = text.Trim();
        var address = SchemeSeparator().IsMatch(trimmed) ? ParseUri(trimmed, errors) : ParseConnectionString(trimmed, errors);
        if (credential is not null && !string.IsNullOrEmpty(credential.UserName))
        {
            address = new EndpointAddress(address.Kind, address.Host, address.Port, address.Database, credential.UserName,
                credential.Password, address.Options, role);
        }

        return address;
    }

    private static EndpointAddress ParseUri(string text, AddressErrors errors)
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
                $"The {errors.Side}connection scheme '{scheme}://' is not one Molt knows.",
                "Use postgres://, postgresql://, cockroachdb://, mysql:// or mariadb://, or a plain connection string.") { Target = errors.Target },
        };

        var rest = text[(schemeEnd + 3)..];
        if (HasAmbiguousCredentials(rest))
        {
            // Where the password ends is a guess: no part of the text after the scheme is repeated, not even redacted.
            throw errors.Invalid(
                $"The {errors.Side}connection URI has an '@', ':', '/', '?' or '#' in its user name or password (or an '@' in its database name) that is not percent-encoded, so where the password ends cannot be told.",
                $"Percent-encode those characters (@ as %40, : as %3A, / as %2F, ? as %3F, # as %23), or leave the password out of the URI and pass it with {errors.CredentialParameter}.");
        }

        // MOLT's MySQL form wraps the host in tcp(...): accept it so existing runbooks keep working.
        var normalized = GoTcpHost().Replace(rest, "@$1/");
        Uri uri;
        try
        {
            uri = new Uri("molt://" + normalized, UriKind.Absolute);
        }
        catch (UriFormatException)
        {
            throw errors.Invalid($"The {errors.Side}connection URI '{Redact(text)}' is not valid.",
                $"Percent-encode special characters in the user name and password, or pass the password with {errors.CredentialParameter}.");
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
            throw errors.Invalid($"The {errors.Side}connection URI '{Redact(text)}' names no host.");
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

        return new EndpointAddress(kind, host, port, database, user, password, options, errors.Role);
    }

    private static EndpointAddress ParseConnectionString(string text, AddressErrors errors)
    {
        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = text;
        }
        catch (ArgumentException)
        {
            throw errors.Invalid($"The {errors.Side}connection text is neither a URI (scheme://...) nor a valid 'Key=Value;...' connection string.",
                "Use a URI such as postgres://user@host:5432/db or a connection string such as 'Host=...;Database=...'.");
        }

        var kind = EndpointKind.Postgres;
        if (builder.TryGetValue("Engine", out var engine))
        {
            kind = ParseEngine(Convert.ToString(engine, CultureInfo.InvariantCulture) ?? string.Empty, errors);
            builder.Remove("Engine");
        }

        string? Take(params string[] keys)
        {
            foreach (var key in keys)
            {
                if (builder.TryGetValue(key, out var value))
                {
                    builder.Remove(key);
                    return Convert.ToString(value, CultureInfo.InvariantCulture);
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
            throw errors.Invalid($"The {errors.Side}port '{portText}' is not a number from 1 to 65535.");
        }

        var options = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string key in builder.Keys)
        {
            options[key] = Convert.ToString(builder[key], CultureInfo.InvariantCulture) ?? string.Empty;
        }

        return new EndpointAddress(kind, host, port, database, user, password, options, errors.Role);
    }

    private static EndpointKind ParseEngine(string engine, AddressErrors errors) => engine.Trim().ToLowerInvariant() switch
    {
        "postgres" or "postgresql" => EndpointKind.Postgres,
        "cockroachdb" or "cockroach" or "crdb" => EndpointKind.CockroachDb,
        "mysql" => EndpointKind.MySql,
        "mariadb" => EndpointKind.MariaDb,
        _ => throw errors.Invalid($"Engine='{engine}' is not a database Molt knows.", "Use PostgreSQL, CockroachDB, MySQL or MariaDB."),
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

    /// <summary>
    /// Removes the password from a connection URI or connection string, for messages about text we could not parse.
    /// A URI whose user information cannot be split without guessing keeps only its scheme.
    /// </summary>
    public static string Redact(string text)
    {
        var trimmed = text.Trim();
        var scheme = SchemeSeparator().Match(trimmed);
        return scheme.Success ? RedactUri(scheme.Value, trimmed[scheme.Length..]) : RedactConnectionString(text);
    }

    /// <summary>Whether a connection option holds a secret (password, sslpassword, SSL Password, Pwd), whose value is never shown.</summary>
    public static bool IsSecretOption(string key)
    {
        var name = key.Trim();
        return name.Contains("password", StringComparison.OrdinalIgnoreCase) || name.Equals("pwd", StringComparison.OrdinalIgnoreCase);
    }

    private const string Hidden = "***";

    private static string RedactUri(string scheme, string rest)
    {
        if (HasAmbiguousCredentials(rest))
        {
            return scheme + Hidden;
        }

        var end = AuthorityEnd(rest);
        var authority = rest[..end];
        var at = authority.IndexOf('@');
        var colon = authority.IndexOf(':');
        if (at >= 0 && colon >= 0 && colon < at)
        {
            authority = authority[..colon] + ":" + Hidden + authority[at..];
        }

        return scheme + authority + QueryPassword().Replace(rest[end..], "$1=" + Hidden);
    }

    /// <summary>
    /// True when the text after <c>scheme://</c> cannot be split into user, password and host without guessing: more
    /// than one '@' in the authority or ':' in the user information, or an '@' after the authority where none can be
    /// (in the path, a query key or the fragment), which a '/', '?' or '#' in the password put there
    /// (<c>app:pa/ss@host/db</c> reads as host "app", port "pa", database "ss@host/db").
    /// </summary>
    private static bool HasAmbiguousCredentials(string rest)
    {
        var end = AuthorityEnd(rest);
        var authority = rest[..end];
        var at = authority.IndexOf('@');
        if (at >= 0 && (authority.IndexOf('@', at + 1) >= 0 || authority[..at].Count(c => c == ':') > 1))
        {
            return true;
        }

        var afterAuthority = rest[end..];
        var fragment = afterAuthority.IndexOf('#');
        if (fragment >= 0)
        {
            if (afterAuthority[fragment..].Contains('@'))
            {
                return true;
            }

            afterAuthority = afterAuthority[..fragment];
        }

        var query = afterAuthority.IndexOf('?');
        var path = query < 0 ? afterAuthority : afterAuthority[..query];
        var queryKeys = query < 0 ? [] : afterAuthority[(query + 1)..].Split('&').Select(pair => pair.Split('=')[0]);
        return path.Contains('@') || queryKeys.Any(key => key.Contains('@'));
    }

    private static int AuthorityEnd(string rest)
    {
        var end = rest.IndexOfAny(['/', '?', '#']);
        return end < 0 ? rest.Length : end;
    }

    /// <summary>Hides the value of every secret key, reading quoted values ('a;b', "a;b", "a""b") as the driver does; an unclosed quote hides the rest.</summary>
    private static string RedactConnectionString(string text)
    {
        var redacted = new StringBuilder();
        var position = 0;
        while (position < text.Length)
        {
            var equals = text.IndexOf('=', position);
            var semicolon = text.IndexOf(';', position);
            if (equals < 0 || (semicolon >= 0 && semicolon < equals))
            {
                var keyEnd = semicolon < 0 ? text.Length : semicolon + 1;
                redacted.Append(text, position, keyEnd - position);
                position = keyEnd;
                continue;
            }

            var valueEnd = ValueEnd(text, equals + 1);
            var key = text[position..equals];
            redacted.Append(key).Append('=').Append(IsSecretOption(key) ? Hidden : text[(equals + 1)..valueEnd]);
            position = valueEnd;
        }

        return redacted.ToString();
    }

    /// <summary>Where the value starting at <paramref name="start"/> ends: after its closing quote, or at the next ';'.</summary>
    private static int ValueEnd(string text, int start)
    {
        var position = start;
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }

        if (position < text.Length && text[position] is '\'' or '"')
        {
            var quote = text[position];
            for (position++; position < text.Length; position++)
            {
                if (text[position] != quote)
                {
                    continue;
                }

                if (position + 1 < text.Length && text[position + 1] == quote)
                {
                    position++;
                    continue;
                }

                break;
            }

            if (position >= text.Length)
            {
                return text.Length;
            }
        }

        var semicolon = text.IndexOf(';', position);
        return semicolon < 0 ? text.Length : semicolon;
    }

    /// <summary>Errors about the text of one address: which side it is for, and what of it may be shown.</summary>
    private sealed class AddressErrors(EndpointRole? role, string text)
    {
        public EndpointRole? Role => role;

        /// <summary>"source " or "target " to put before a noun, or nothing when the side is not known.</summary>
        public string Side => role is { } r ? r.Label() + " " : string.Empty;

        public string CredentialParameter => role?.CredentialParameter() ?? "-SourceCredential / -TargetCredential";

        /// <summary>The error's target: the side and the address without any password.</summary>
        public string Target => (Side + Redact(text)).Trim();

        public MoltException Invalid(string message, string? remedy = null) =>
            new(MoltErrorKind.InvalidArgument, "InvalidAddress", message, remedy) { Target = Target };
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*://")]
    private static partial Regex SchemeSeparator();

    [GeneratedRegex(@"@tcp\(([^)]*)\)/?")]
    private static partial Regex GoTcpHost();

    [GeneratedRegex(@"(?i)([?&](?:[^=&]*password|pwd))=[^&]*")]
    private static partial Regex QueryPassword();
}
