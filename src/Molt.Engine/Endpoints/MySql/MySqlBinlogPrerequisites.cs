using System.Globalization;
using Molt.Engine.Checks;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// What streaming a MySQL/MariaDB binlog needs of the source: a row-based binary log with full row images, GTIDs,
/// a server id, retention long enough to resume, and the replication grants. Settings that work at a cost are warnings
/// that name the cost.
/// </summary>
internal static class MySqlBinlogPrerequisites
{
    /// <summary>A week: a stream paused over a long weekend, plus the time to notice, still resumes.</summary>
    public static readonly TimeSpan MinimumRetention = TimeSpan.FromDays(7);

    public static IEnumerable<PrerequisiteCheck> Check(EndpointAddress address, EndpointRole role, bool isMariaDb, Version version,
        IReadOnlyDictionary<string, string> variables, MySqlGrants grants)
    {
        string Get(string name) => variables.GetValueOrDefault(name, "(not set)");
        bool Is(string name, string value) => Get(name).Equals(value, StringComparison.OrdinalIgnoreCase);

        yield return PrerequisiteCheck.Of(role, address, "BinaryLog", IsOn(Get("log_bin")), $"log_bin = {Get("log_bin")}",
            "Start the server with a binary log (log_bin = mysql-bin in my.cnf, [mysqld] section) and restart it.");
        yield return PrerequisiteCheck.Of(role, address, "BinlogFormat", Is("binlog_format", "ROW"), $"binlog_format = {Get("binlog_format")}",
            "SET GLOBAL binlog_format = 'ROW'; and binlog_format = ROW in my.cnf so it survives a restart (sessions already open keep their format).");
        yield return RowImage(address, role, Get("binlog_row_image"));
        yield return RowMetadata(address, role, variables.GetValueOrDefault("binlog_row_metadata"));
        yield return isMariaDb ? MariaDbGtid(address, role, Get("gtid_strict_mode")) : MySqlGtid(address, role, Get("gtid_mode"), Get("enforce_gtid_consistency"));
        yield return Grants(address, role, isMariaDb, version, grants);
        yield return Retention(address, role, isMariaDb, version, variables);
        yield return PrerequisiteCheck.Of(role, address, "ServerId", Get("server_id") is var id && id != "0" && id != "(not set)",
            $"server_id = {Get("server_id")}", "Give the server a unique id: server_id = 1 in my.cnf (or SET GLOBAL server_id = 1;); a server with id 0 refuses binlog readers.");
    }

    private static PrerequisiteCheck RowImage(EndpointAddress address, EndpointRole role, string image) => image.ToUpperInvariant() switch
    {
        "FULL" => PrerequisiteCheck.Pass(role, address, "BinlogRowImage", "binlog_row_image = FULL"),
        "MINIMAL" or "NOBLOB" => PrerequisiteCheck.Warn(role, address, "BinlogRowImage",
            $"binlog_row_image = {image}: updates and deletes carry only the key (and the changed columns), so tables without a primary key are refused at start",
            "SET GLOBAL binlog_row_image = 'FULL'; and binlog_row_image = FULL in my.cnf, to replicate keyless tables too."),
        _ => PrerequisiteCheck.Fail(role, address, "BinlogRowImage", $"binlog_row_image = {image}",
            "SET GLOBAL binlog_row_image = 'FULL'; and binlog_row_image = FULL in my.cnf."),
    };

    private static PrerequisiteCheck RowMetadata(EndpointAddress address, EndpointRole role, string? metadata) =>
        PrerequisiteCheck.Advise(role, address, "BinlogRowMetadata", metadata?.Equals("FULL", StringComparison.OrdinalIgnoreCase) == true,
            metadata is null ? "binlog_row_metadata is not available on this server version" : $"binlog_row_metadata = {metadata}",
            "column names, signedness and ENUM/SET labels are read from the catalog instead, and a schema change between the two is detected there",
            metadata is null
                ? "Upgrade to MySQL 8.0.1+ or MariaDB 10.5+ and set binlog_row_metadata = FULL, so each row event describes its own columns."
                : "SET GLOBAL binlog_row_metadata = 'FULL'; and binlog_row_metadata = FULL in my.cnf, so each row event describes its own columns.");

    /// <summary>MariaDB always writes GTIDs; strict mode makes a diverged or out-of-order GTID an error on the source.</summary>
    private static PrerequisiteCheck MariaDbGtid(EndpointAddress address, EndpointRole role, string strict) =>
        PrerequisiteCheck.Advise(role, address, "GtidMode", IsOn(strict), $"gtid_strict_mode = {strict} (MariaDB always writes GTIDs)",
            "out-of-order GTIDs on the source are not refused there, so a resume position is only as reliable as the source's GTID discipline",
            "SET GLOBAL gtid_strict_mode = ON; and gtid_strict_mode = ON in my.cnf.");

    private static PrerequisiteCheck MySqlGtid(EndpointAddress address, EndpointRole role, string mode, string consistency) =>
        PrerequisiteCheck.Of(role, address, "GtidMode", mode.Equals("ON", StringComparison.OrdinalIgnoreCase) && IsOn(consistency),
            $"gtid_mode = {mode}, enforce_gtid_consistency = {consistency}",
            "SET GLOBAL enforce_gtid_consistency = ON; then step gtid_mode through OFF_PERMISSIVE and ON_PERMISSIVE to ON (SET GLOBAL gtid_mode = ...), " +
            "and put gtid_mode = ON and enforce_gtid_consistency = ON in my.cnf.");

    private static PrerequisiteCheck Grants(EndpointAddress address, EndpointRole role, bool isMariaDb, Version version, MySqlGrants grants)
    {
        // MariaDB 10.5 renamed REPLICATION CLIENT to BINLOG MONITOR (the old name still grants it).
        var monitor = isMariaDb && version >= new Version(10, 5) ? "BINLOG MONITOR" : "REPLICATION CLIENT";
        var missing = new List<string>();
        if (!grants.CanReadBinlog)
        {
            missing.Add("REPLICATION SLAVE");
        }

        if (!grants.CanMonitorBinlog)
        {
            missing.Add(monitor);
        }

        return PrerequisiteCheck.Of(role, address, "ReplicationGrants", missing.Count == 0,
            $"REPLICATION SLAVE: {(grants.CanReadBinlog ? "yes" : "no")}, {monitor}: {(grants.CanMonitorBinlog ? "yes" : "no")}",
            $"GRANT {string.Join(", ", missing)} ON *.* TO <user>;");
    }

    /// <summary>
    /// binlog_expire_logs_seconds (MySQL 8, MariaDB 10.6+) wins over expire_logs_days when set; 0 in both keeps binlogs
    /// until purged by hand.
    /// </summary>
    private static PrerequisiteCheck Retention(EndpointAddress address, EndpointRole role, bool isMariaDb, Version version,
        IReadOnlyDictionary<string, string> variables)
    {
        var seconds = Number(variables, "binlog_expire_logs_seconds");
        var days = Number(variables, "expire_logs_days");
        var (retention, setting) = seconds > 0
            ? (TimeSpan.FromSeconds(seconds), $"binlog_expire_logs_seconds = {seconds.ToString(CultureInfo.InvariantCulture)}")
            : days > 0
                ? (TimeSpan.FromDays(days), $"expire_logs_days = {days.ToString(CultureInfo.InvariantCulture)}")
                : (TimeSpan.Zero, "binlog_expire_logs_seconds = 0, expire_logs_days = 0 (binlogs kept until purged)");
        var usesSeconds = !isMariaDb || version >= new Version(10, 6);
        var minimum = usesSeconds
            ? $"binlog_expire_logs_seconds = {MinimumRetention.TotalSeconds.ToString(CultureInfo.InvariantCulture)}"
            : $"expire_logs_days = {MinimumRetention.TotalDays.ToString(CultureInfo.InvariantCulture)}";
        return PrerequisiteCheck.Advise(role, address, "BinlogRetention", retention == TimeSpan.Zero || retention >= MinimumRetention, setting,
            $"binlogs expire after {retention.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} h, under the {MinimumRetention.TotalDays.ToString(CultureInfo.InvariantCulture)} days Molt advises: " +
            "a stream stopped longer than that cannot resume and the tables must be loaded again",
            $"SET GLOBAL {minimum}; and {minimum} in my.cnf (or longer: retention must outlast the longest pause of the replication).");
    }

    private static double Number(IReadOnlyDictionary<string, string> variables, string name) =>
        double.TryParse(variables.GetValueOrDefault(name), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : 0;

    private static bool IsOn(string value) => value.Equals("ON", StringComparison.OrdinalIgnoreCase) || value == "1";
}
