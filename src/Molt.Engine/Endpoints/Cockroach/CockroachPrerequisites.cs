using System.Globalization;
using System.Text.RegularExpressions;
using Molt.Engine.Checks;
using Molt.Engine.Endpoints.PgWire;
using Npgsql;

namespace Molt.Engine.Endpoints.Cockroach;

/// <summary>
/// Checks a CockroachDB server (recognised by its <c>version()</c> string, e.g. "CockroachDB CCL v24.1.0 ...").
/// Failback reads changes with a changefeed, which needs rangefeeds:
/// https://www.cockroachlabs.com/docs/stable/create-changefeed (kv.rangefeed.enabled).
/// </summary>
internal static partial class CockroachPrerequisites
{
    public static async Task<ConnectionReport> CheckAsync(EndpointAddress address, EndpointRole role, MigrationFlow flow, CancellationToken cancellationToken)
    {
        await using var connection = await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        var versionText = await PgWireConnections.VersionAsync(connection, cancellationToken).ConfigureAwait(false);
        var version = ParseVersion(versionText);
        var user = await PgWirePrerequisites.ScalarAsync<string>(connection, "SELECT current_user", cancellationToken).ConfigureAwait(false);
        var server = new ServerInfo(address.Kind, version?.ToString() ?? "unknown", versionText, connection.Database, user);
        var checks = new List<PrerequisiteCheck>
        {
            PrerequisiteCheck.Pass(role, address, "Connection", $"CockroachDB {server.Version} as '{user}' on database '{connection.Database}'"),
            PrerequisiteCheck.Of(role, address, "ServerVersion", IsSupported(version),
                $"version {server.Version}", $"Molt supports CockroachDB {MinimumVersion} and newer; upgrade the cluster."),
        };
        if (role == EndpointRole.Target)
        {
            checks.Add(await PgWirePrerequisites.StateSchemaAsync(connection, address, role, cancellationToken).ConfigureAwait(false));
        }

        if (role == EndpointRole.Target && flow == MigrationFlow.Failback)
        {
            checks.Add(await RangefeedsAsync(connection, address, role, cancellationToken).ConfigureAwait(false));
            checks.AddRange(await Changefeed.ChangefeedPrerequisites.CheckAsync(connection, address, role, user, cancellationToken).ConfigureAwait(false));
        }

        return new ConnectionReport(server, checks);
    }

    /// <summary>
    /// The oldest release whose COPY, UPSERT and changefeed behaviour the Cockroach dialect is written against: 24.1, an
    /// LTS release, as 23.1 and 23.2 are out of support (https://www.cockroachlabs.com/docs/releases/release-support-policy)
    /// and 24.1 brings ALTER COLUMN ... SET GENERATED and RESTART (release notes v24.1.0-alpha.3 and alpha.4).
    /// </summary>
    public static Version MinimumVersion { get; } = new(24, 1);

    internal static bool IsSupported(Version? version) => version is not null && version >= MinimumVersion;

    public static Version? ParseVersion(string versionText)
    {
        var match = VersionPattern().Match(versionText);
        return match.Success ? new Version(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
            match.Groups[3].Success ? int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture) : 0) : null;
    }

    /// <summary>
    /// Changefeeds need rangefeeds on a self-hosted cluster (kv.rangefeed.enabled = true: https://www.cockroachlabs.com/docs/molt/migrate-failback,
    /// create-changefeed; on by default on Standard and Basic, cdc-cloud-rangefeed), read with SHOW CLUSTER SETTING, which needs admin,
    /// MODIFYCLUSTERSETTING or VIEWCLUSTERSETTING (https://www.cockroachlabs.com/docs/stable/show-cluster-setting).
    /// </summary>
    internal const string RangefeedSettingSql = "SHOW CLUSTER SETTING kv.rangefeed.enabled";

    private static async Task<PrerequisiteCheck> RangefeedsAsync(NpgsqlConnection connection, EndpointAddress address, EndpointRole role,
        CancellationToken cancellationToken)
    {
        const string remedy = "SET CLUSTER SETTING kv.rangefeed.enabled = true; (needs admin or the MODIFYCLUSTERSETTING privilege).";
        try
        {
            var enabled = await PgWirePrerequisites.ScalarAsync<string>(connection, RangefeedSettingSql, cancellationToken)
                .ConfigureAwait(false);
            return PrerequisiteCheck.Of(role, address, "Rangefeeds", enabled.Equals("true", StringComparison.OrdinalIgnoreCase),
                $"kv.rangefeed.enabled = {enabled}", remedy);
        }
        catch (PostgresException ex)
        {
            return PrerequisiteCheck.Fail(role, address, "Rangefeeds", $"could not read kv.rangefeed.enabled: {ex.MessageText}",
                "Grant the user VIEWCLUSTERSETTING (or admin), then " + remedy);
        }
    }

    [GeneratedRegex(@"CockroachDB \w+ v(\d+)\.(\d+)(?:\.(\d+))?")]
    private static partial Regex VersionPattern();
}
