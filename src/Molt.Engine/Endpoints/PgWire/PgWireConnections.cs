using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>Builds Npgsql connections for a pgwire address (PostgreSQL and CockroachDB).</summary>
internal static class PgWireConnections
{
    // URI query options in libpq spelling, and the Npgsql keyword each one sets.
    private static readonly Dictionary<string, string> LibpqKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslpassword"] = "SSL Password",
        ["application_name"] = "Application Name",
        ["connect_timeout"] = "Timeout",
        ["target_session_attrs"] = "Target Session Attributes",
    };

    public static NpgsqlConnectionStringBuilder Builder(EndpointAddress address)
    {
        if (!address.Kind.IsPgWire())
        {
            throw new ArgumentException($"{address.Kind.DisplayName()} is not a pgwire database.", nameof(address));
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = address.Host,
            Port = address.Port,
            Database = address.Database,
            ApplicationName = "molt",
            // A connection of the driver's global pool would stay open on the server after the cmdlet that opened it ends;
            // only data sources, which close their pool when disposed, pool connections.
            Pooling = false,
            // Long COPY streams and catalog reads must not be cut by the default 30 s command timeout.
            CommandTimeout = 0,
            Timeout = 15,
            // A rejected row is recorded with the server's detail ("Failing row contains (...)", "Key (id)=(5)"),
            // which Npgsql otherwise withholds; it carries row values, never connection secrets.
            IncludeErrorDetail = true,
            // COPY streams move megabytes: larger socket buffers mean fewer system calls per row.
            ReadBufferSize = 64 * 1024,
            WriteBufferSize = 64 * 1024,
        };
        if (address.User is not null)
        {
            builder.Username = address.User;
        }

        if (address.Password is not null)
        {
            builder.Password = address.Password;
        }

        foreach (var (key, value) in address.Options)
        {
            var keyword = LibpqKeywords.GetValueOrDefault(key, key);
            try
            {
                builder[keyword] = keyword.Equals("SSL Mode", StringComparison.OrdinalIgnoreCase) ? LibpqSslMode(value) : value;
            }
            catch (ArgumentException)
            {
                throw new MoltException(MoltErrorKind.InvalidArgument, "InvalidConnectionOption",
                    $"The connection option '{key}={(EndpointAddress.IsSecretOption(key) ? "***" : value)}' is not one PostgreSQL connections accept.",
                    "Check the spelling; libpq names (sslmode, sslrootcert, application_name, connect_timeout) and Npgsql keywords are accepted.");
            }
        }

        return builder;
    }

    /// <param name="sessionSettings">SET statements every connection of the source runs once, when it is opened.</param>
    /// <param name="commandTimeout">Seconds a command may take, unless the address sets its own; otherwise none (a COPY may run for hours).</param>
    public static NpgsqlDataSource CreateDataSource(EndpointAddress address, int? maxPoolSize = null, IReadOnlyList<string>? sessionSettings = null,
        int? commandTimeout = null)
    {
        var builder = Builder(address);
        builder.Pooling = true;
        if (commandTimeout is { } seconds && !address.Options.Keys.Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("CommandTimeout", StringComparison.OrdinalIgnoreCase)))
        {
            builder.CommandTimeout = seconds;
        }

        if (maxPoolSize is { } size)
        {
            builder.MaxPoolSize = Math.Max(size, 1);
        }

        var dataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString);
        if (sessionSettings is { Count: > 0 } settings)
        {
            var sql = string.Join("; ", settings);
            dataSource.UsePhysicalConnectionInitializer(
                connection =>
                {
                    using var command = new NpgsqlCommand(sql, connection);
                    command.ExecuteNonQuery();
                },
                async connection =>
                {
                    await using var command = new NpgsqlCommand(sql, connection);
                    await command.ExecuteNonQueryAsync().ConfigureAwait(false);
                });
        }

        return dataSource.Build();
    }

    /// <summary>What a pgwire server says it is in version(), whatever scheme reached it.</summary>
    public static async Task<string> VersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT version()", connection);
        return (string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Whether a version() string is CockroachDB's (it names itself there): the one place that tells the two apart.</summary>
    public static bool IsCockroachDb(string version) => version.Contains("CockroachDB", StringComparison.Ordinal);

    public static Task<NpgsqlConnection> OpenAsync(EndpointAddress address, CancellationToken cancellationToken) =>
        OpenAsync(address, Builder(address), cancellationToken);

    /// <summary>A connection under its own application_name, which other sessions can see in pg_stat_activity.</summary>
    public static Task<NpgsqlConnection> OpenAsync(EndpointAddress address, string applicationName, CancellationToken cancellationToken)
    {
        var builder = Builder(address);
        builder.ApplicationName = applicationName;
        return OpenAsync(address, builder, cancellationToken);
    }

    private static async Task<NpgsqlConnection> OpenAsync(EndpointAddress address, NpgsqlConnectionStringBuilder builder, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(builder.ConnectionString);
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

    // libpq spells the modes in lower case with hyphens (verify-full); Npgsql's enum names have none.
    private static string LibpqSslMode(string value) => value.Replace("-", string.Empty, StringComparison.Ordinal);
}
