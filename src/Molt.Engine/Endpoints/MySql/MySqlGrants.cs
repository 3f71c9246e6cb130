using System.Text.RegularExpressions;

namespace Molt.Engine.Endpoints.MySql;

/// <summary>
/// The global privileges in the rows of <c>SHOW GRANTS</c>, as MySQL 5.7/8 and MariaDB print them.
/// MariaDB 10.5+ prints REPLICATION CLIENT as its new name BINLOG MONITOR; both are accepted.
/// </summary>
internal sealed partial class MySqlGrants
{
    private readonly HashSet<string> privileges;

    private MySqlGrants(HashSet<string> privileges) => this.privileges = privileges;

    public static MySqlGrants Parse(IEnumerable<string> grantRows)
    {
        var privileges = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var row in grantRows)
        {
            var match = GlobalGrant().Match(row);
            if (!match.Success)
            {
                continue;
            }

            foreach (var privilege in match.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                privileges.Add(WhiteSpace().Replace(privilege, " "));
            }
        }

        return new MySqlGrants(privileges);
    }

    public bool HasAll => privileges.Contains("ALL PRIVILEGES") || privileges.Contains("ALL");

    public bool Has(string privilege) => HasAll || privileges.Contains(privilege);

    public bool CanReadBinlog => Has("REPLICATION SLAVE") || Has("REPLICATION REPLICA");

    public bool CanMonitorBinlog => Has("REPLICATION CLIENT") || Has("BINLOG MONITOR") || Has("SUPER");

    [GeneratedRegex(@"^GRANT\s+(.+?)\s+ON\s+\*\.\*\s+TO\s", RegexOptions.IgnoreCase)]
    private static partial Regex GlobalGrant();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();
}
