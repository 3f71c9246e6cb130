using System.Globalization;
using System.Text.RegularExpressions;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>
/// Whether a changefeed can still resume at a cursor: CockroachDB keeps old row versions for the table's
/// <c>gc.ttlseconds</c> (https://www.cockroachlabs.com/docs/stable/configure-replication-zones#replication-zone-variables),
/// and a cursor before that window fails (https://www.cockroachlabs.com/docs/stable/create-changefeed#cursor). A sinkless
/// changefeed is no job that could be paused with its data protected ("Sinkless changefeeds stream changes directly to
/// the SQL session": https://www.cockroachlabs.com/docs/stable/create-and-configure-changefeeds), so while failback is
/// stopped Molt counts on no protected timestamp: only gc.ttlseconds.
/// </summary>
internal static partial class ChangefeedGcWindow
{
    /// <summary>
    /// Room kept between the cursor's age and the TTL: the changefeed starts a moment after the check, and GC of a range
    /// can run at any point of its window.
    /// </summary>
    public static TimeSpan Margin { get; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A table's effective zone configuration (its own or inherited), one row of target and raw_config_sql, the latter
    /// holding <c>gc.ttlseconds = N,</c> (https://www.cockroachlabs.com/docs/stable/show-zone-configurations).
    /// </summary>
    public static string ZoneSql(TableName table) => $"SHOW ZONE CONFIGURATION FROM TABLE {PgWireSyntax.Quote(table)}";

    /// <summary>The cluster's current HLC as text (DECIMAL of wall nanoseconds and logical, more digits than a .NET decimal holds).</summary>
    public const string NowSql = "SELECT cluster_logical_timestamp()::STRING";

    /// <summary>The gc.ttlseconds of a raw_config_sql text.</summary>
    /// <exception cref="FormatException">The text holds no gc.ttlseconds.</exception>
    public static int TtlSeconds(string rawConfigSql)
    {
        var match = TtlPattern().Match(rawConfigSql);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new FormatException($"The zone configuration '{rawConfigSql}' has no gc.ttlseconds.");
    }

    /// <summary>Throws when a table's GC window, less <see cref="Margin"/>, no longer reaches back to <paramref name="cursor"/>.</summary>
    /// <exception cref="MoltException">ChangefeedCursorPastGcWindow, naming the table and its gc.ttlseconds.</exception>
    public static void Require(CockroachHlc cursor, CockroachHlc now, IEnumerable<(TableName Table, int TtlSeconds)> tables)
    {
        var age = now.WallTime - cursor.WallTime;
        foreach (var (table, ttl) in tables.OrderBy(t => t.TtlSeconds))
        {
            if (age + Margin >= TimeSpan.FromSeconds(ttl))
            {
                throw ChangefeedErrors.CursorPastGcWindow(cursor, table, ttl, age);
            }
        }
    }

    /// <summary>Reads each table's gc.ttlseconds and the cluster's time (with <paramref name="sql"/>), then <see cref="Require"/>s the cursor.</summary>
    public static async Task CheckAsync(NpgsqlConnection connection, ChangefeedSql sql, CockroachHlc cursor, IReadOnlyList<TableName> tables,
        CancellationToken cancellationToken)
    {
        var ttls = new List<(TableName, int)>();
        foreach (var table in tables)
        {
            await using var command = new NpgsqlCommand(sql.Zone(table), connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new MoltException(MoltErrorKind.NotFound, "ChangefeedTableMissing", $"CockroachDB shows no zone configuration for {table}: the table is not on the target.",
                    "Failback watches the tables the migration loaded; check that they still exist on the target.") { Target = table.ToString() };
            }

            ttls.Add((table, TtlSeconds(reader.GetString(reader.GetOrdinal("raw_config_sql")))));
        }

        var now = CockroachHlc.Parse(await PgWirePrerequisites.ScalarAsync<string>(connection, sql.Now, cancellationToken).ConfigureAwait(false));
        Require(cursor, now, ttls);
    }

    [GeneratedRegex(@"gc\.ttlseconds\s*=\s*(\d+)")]
    private static partial Regex TtlPattern();
}
