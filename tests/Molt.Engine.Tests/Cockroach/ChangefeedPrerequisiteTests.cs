using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// The GC window check before a changefeed resumes, and the failback checks of Test-MoltConnection, on result shapes as
/// https://www.cockroachlabs.com/docs/stable/show-zone-configurations and https://www.cockroachlabs.com/docs/stable/show-grants show them.
/// </summary>
public sealed class ChangefeedPrerequisiteTests
{
    private static readonly EndpointAddress Address = EndpointAddress.Parse("cockroachdb://max@crdb:26257/movr");
    private static readonly TableName Users = new("public", "users");
    private static readonly CockroachHlc Now = CockroachHlc.Parse("1759246920563173000.0000000000");

    // raw_config_sql of SHOW ZONE CONFIGURATION FROM RANGE default, as the docs print it.
    private const string DefaultZone = """
        ALTER RANGE default CONFIGURE ZONE USING
            range_min_bytes = 134217728,
            range_max_bytes = 536870912,
            gc.ttlseconds = 90000,
            num_replicas = 3,
            constraints = '[]',
            lease_preferences = '[]'
        """;

    private static CockroachHlc Ago(TimeSpan age) => new(Now.WallNanos - (long)(age.TotalMilliseconds * 1_000_000), 0);

    [Fact]
    public void TheTtlIsReadFromTheZoneConfigurationText()
    {
        Assert.Equal(90000, ChangefeedGcWindow.TtlSeconds(DefaultZone));
        Assert.Equal(100000, ChangefeedGcWindow.TtlSeconds("ALTER INDEX vehicles@vehicles_auto_index_fk_city_ref_users CONFIGURE ZONE USING\n    range_min_bytes = 134217728,\n    gc.ttlseconds = 100000,\n    num_replicas = 5"));
        Assert.Throws<FormatException>(() => ChangefeedGcWindow.TtlSeconds("ALTER RANGE default CONFIGURE ZONE USING num_replicas = 3"));
    }

    [Fact]
    public void TheZoneOfATableIsShownByItsQuotedName() =>
        Assert.Equal("SHOW ZONE CONFIGURATION FROM TABLE \"public\".\"users\"", ChangefeedGcWindow.ZoneSql(Users));

    [Fact]
    public void ACursorWellInsideEveryTablesGcWindowMayResume() =>
        ChangefeedGcWindow.Require(Ago(TimeSpan.FromHours(1)), Now, [(Users, 14400), (new TableName("public", "rides"), 90000)]);

    [Fact]
    public void ACursorOlderThanATablesGcWindowStopsWithAnErrorNamingTheTableAndTheSetting()
    {
        var error = Assert.Throws<MoltException>(() =>
            ChangefeedGcWindow.Require(Ago(TimeSpan.FromHours(5)), Now, [(new TableName("public", "rides"), 90000), (Users, 14400)]));
        Assert.Equal("ChangefeedCursorPastGcWindow", error.ErrorId);
        Assert.Equal("public.users", error.Target);
        Assert.Contains("gc.ttlseconds = 14400", error.Message, StringComparison.Ordinal);
        Assert.Contains("gc.ttlseconds", error.Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public void ACursorWithinTheMarginOfTheTtlIsRefusedToo() =>
        Assert.Throws<MoltException>(() => ChangefeedGcWindow.Require(Ago(TimeSpan.FromSeconds(14400 - 30)), Now, [(Users, 14400)]));

    [Fact]
    public void CockroachDbsOwnGcThresholdErrorIsRecognised()
    {
        // The error a too-old cursor gives (create-changefeed.md cursor; MOLT's failback guide quotes "must be after replica GC threshold").
        Assert.True(ChangefeedErrors.IsGcThresholdError("batch timestamp 1759246920.563173000,0 must be after replica GC threshold 1759250000.000000000,0"));
        Assert.False(ChangefeedErrors.IsGcThresholdError("relation \"users\" does not exist"));
    }

    [Fact]
    public void TheDefaultFourHourTtlPassesTheFailbackGcCheck()
    {
        // gc.ttlseconds = 14400 is the default shown in configure-replication-zones.md.
        var check = ChangefeedPrerequisites.EvaluateGcTtl(EndpointRole.Target, Address, "movr", 14400, ChangefeedPrerequisites.ExpectedDowntime);
        Assert.True(check.Passed);
        Assert.Equal("FailbackGcWindow", check.Check);
        Assert.Contains("gc.ttlseconds = 14400", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AShortTtlFailsTheFailbackGcCheckWithTheStatementThatRaisesIt()
    {
        // The staging database of the Replicator wiki runs with gc.ttlseconds = 300.
        var check = ChangefeedPrerequisites.EvaluateGcTtl(EndpointRole.Target, Address, "movr", 300, TimeSpan.FromHours(1));
        Assert.False(check.Passed);
        Assert.Equal("ALTER DATABASE \"movr\" CONFIGURE ZONE USING gc.ttlseconds = 3660; (or on each migrated table with ALTER TABLE).", check.Remedy);
    }

    [Fact]
    public void TheDatabasesZoneIsReadForTheFailbackGcCheck() =>
        Assert.Equal("SHOW ZONE CONFIGURATION FROM DATABASE \"movr\"", ChangefeedPrerequisites.DatabaseZoneSql("movr"));

    [Fact]
    public void AUserGrantedAllOnEveryTableMayRunTheChangefeed()
    {
        // SHOW GRANTS ON TABLE users: movr | public | users | max | ALL | t (show-grants.md)
        var grants = new[] { new TableGrant("public", "users", "admin", "ALL"), new TableGrant("public", "users", "max", "ALL"), new TableGrant("public", "users", "root", "ALL") };
        Assert.True(ChangefeedPrerequisites.EvaluatePrivileges(EndpointRole.Target, Address, "max", [], grants).Passed);
    }

    [Fact]
    public void ATableTheUserCannotReadFailsTheCheckNamingIt()
    {
        var grants = new[] { new TableGrant("public", "users", "max", "SELECT"), new TableGrant("public", "rides", "admin", "ALL"), new TableGrant("_molt", "fetch_runs", "admin", "ALL") };
        var check = ChangefeedPrerequisites.EvaluatePrivileges(EndpointRole.Target, Address, "max", [], grants);
        Assert.False(check.Passed);
        Assert.Equal("'max' has neither SELECT nor CHANGEFEED on public.rides", check.Detail);
        Assert.Contains("GRANT SELECT", check.Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public void AGrantToARoleOfTheUserCountsAndCHANGEFEEDIsEnough()
    {
        var roles = new[] { new RoleMembership("readers", "max", false) };
        var grants = new[] { new TableGrant("public", "users", "readers", "SELECT"), new TableGrant("public", "rides", "max", "CHANGEFEED") };
        Assert.True(ChangefeedPrerequisites.EvaluatePrivileges(EndpointRole.Target, Address, "max", roles, grants).Passed);
    }

    [Fact]
    public void AnAdminPassesWhateverTheTableGrants()
    {
        var roles = new[] { new RoleMembership("admin", "max", true) };
        Assert.True(ChangefeedPrerequisites.EvaluatePrivileges(EndpointRole.Target, Address, "max", roles, [new TableGrant("public", "rides", "root", "ALL")]).Passed);
    }

    [Fact]
    public void TheGrantQueriesReadTheDocumentedColumns()
    {
        Assert.Equal("SELECT schema_name, table_name, grantee, privilege_type FROM [SHOW GRANTS ON TABLE *]", ChangefeedPrerequisites.TableGrantsSql);
        Assert.Equal("SELECT role_name, member, is_admin FROM [SHOW GRANTS ON ROLE FOR \"max\"]", ChangefeedPrerequisites.RolesSql("max"));
    }
}
