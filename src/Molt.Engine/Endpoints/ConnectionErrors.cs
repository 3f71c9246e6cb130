using System.Net.Sockets;
using MySqlConnector;
using Npgsql;

namespace Molt.Engine.Endpoints;

/// <summary>
/// Turns driver exceptions raised while connecting into errors that say what to do, naming the side that failed
/// (the address's role) and its address without the password.
/// </summary>
internal static class ConnectionErrors
{
    public static MoltException Translate(Exception exception, EndpointAddress address)
    {
        var where = Where(address);
        switch (exception)
        {
            case MoltException molt:
                return molt;
            case PostgresException { SqlState: "28P01" or "28000" } pg:
                return Auth(where, address, pg);
            case PostgresException { SqlState: "3D000" } pg:
                return new MoltException(MoltErrorKind.NotFound, "DatabaseNotFound",
                    $"The database '{address.Database}' does not exist on {where}.",
                    "Create it first, or name an existing database in the connection address.", pg) { Target = address.Label };
            case MySqlException { ErrorCode: MySqlErrorCode.AccessDenied } my:
                return Auth(where, address, my);
            case MySqlException { ErrorCode: MySqlErrorCode.UnknownDatabase } my:
                return new MoltException(MoltErrorKind.NotFound, "DatabaseNotFound",
                    $"The database '{address.Database}' does not exist on {where}.",
                    "Create it first, or name an existing database in the connection address.", my) { Target = address.Label };
        }

        if (FindInner<SocketException>(exception) is not null || FindInner<TimeoutException>(exception) is not null
            || exception is MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } || exception is NpgsqlException { InnerException: IOException })
        {
            return new MoltException(MoltErrorKind.ConnectionFailed, "ConnectionFailed",
                $"Could not reach {where}: {FirstLine(exception)}",
                "Check that the server is running, the host and port are right, and no firewall is in the way.", exception) { Target = address.Label };
        }

        return new MoltException(MoltErrorKind.ConnectionFailed, "ConnectionFailed",
            $"Could not connect to {where}: {FirstLine(exception)}", null, exception) { Target = address.Label };
    }

    /// <summary>"the source PostgreSQL at db:5432", or "PostgreSQL at db:5432" when the side is not known.</summary>
    private static string Where(EndpointAddress address) =>
        $"{(address.Role is { } role ? $"the {role.Label()} " : string.Empty)}{address.Kind.DisplayName()} at {address.Host}:{address.Port}";

    private static MoltException Auth(string where, EndpointAddress address, Exception inner) =>
        new(MoltErrorKind.AuthenticationFailed, "AuthenticationFailed",
            $"{char.ToUpperInvariant(where[0])}{where[1..]} refused the login of user '{address.User}': {FirstLine(inner)}",
            $"Check the user name and password (pass the password with {address.Role?.CredentialParameter() ?? "-SourceCredential / -TargetCredential"}).", inner)
        { Target = address.Label };

    private static T? FindInner<T>(Exception exception) where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }

    private static string FirstLine(Exception exception)
    {
        var message = exception.Message;
        var newline = message.IndexOfAny(['\r', '\n']);
        return newline < 0 ? message : message[..newline];
    }
}
