using System.Globalization;
using System.Management.Automation;

namespace Molt.PowerShell.Tests;

/// <summary>
/// Issue 14: what of a MySQL schema the target will not have is listed, table by table with why, by -WhatIf before the
/// load and by the summary object after it, and the same list is in _molt.fetch_exceptions.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class SchemaFactsNotCarriedTests(ServerFixture servers)
{
    private const string Load = "Start-MoltBulkLoad -Source $args[0] -Target $args[1] -SourceCredential $args[2] -TargetCredential $args[3] -TableHandling DropAndRecreate";

    /// <summary>A generated column whose expression does not translate, a CHECK that does not translate, and a foreign key to non-unique columns.</summary>
    private const string Schema = """
        CREATE TABLE parent (id INT PRIMARY KEY, code INT NOT NULL, KEY code_idx (code));
        CREATE TABLE orders (
            id INT PRIMARY KEY,
            price DECIMAL(10,2),
            slashed DECIMAL(12,4) AS (price / 2) VIRTUAL,
            note VARCHAR(40) NOT NULL DEFAULT '',
            parent_code INT,
            CONSTRAINT note_like CHECK (note NOT LIKE 'x%'),
            CONSTRAINT orders_parent_code FOREIGN KEY (parent_code) REFERENCES parent (code)
        );
        INSERT INTO parent VALUES (1, 10), (2, 10);
        INSERT INTO orders (id, price, parent_code) VALUES (1, 1.25, 10), (2, NULL, NULL);
        """;

    private static readonly string[] Facts = ["generated column slashed", "check constraint note_like", "foreign key orders_parent_code"];

    [Fact]
    public async Task WhatIf_the_summary_and_the_runs_exceptions_list_the_same_facts_not_carried_over_with_table_column_and_why()
    {
        const string source = "facts_src";
        const string target = "facts_dst";
        await servers.MariaDb.CreateDatabaseAsync(source);
        await servers.MariaDb.ExecuteAsync(source, Schema);
        await servers.Postgres.CreateDatabaseAsync(target);
        using var session = new MoltSession();

        var whatIf = session.Invoke($"{Load} -WhatIf", SourceUri(source), TargetUri(target), SourceCredential(), TargetCredential());

        Assert.Empty(whatIf.Errors);
        Assert.Empty(whatIf.Output);
        var text = session.Host.Text;
        Assert.Contains("not carried over: generated column slashed: copied as a plain column with the source's values", text, StringComparison.Ordinal);
        Assert.Contains("not carried over: check constraint note_like: its MySQL expression", text, StringComparison.Ordinal);
        Assert.Contains("not carried over: foreign key orders_parent_code: it references (code) of facts_src.parent, which are not its primary key or a unique key", text, StringComparison.Ordinal);
        Assert.Matches(@"What if: Before anything is written: check the plan's \d+ DDL statements on the target \(PostgreSQL\) in a transaction that is rolled back", text);
        Assert.Equal(0L, await servers.Postgres.ScalarAsync<long>(target, "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'"));

        var loaded = session.Invoke($"{Load} -Force", SourceUri(source), TargetUri(target), SourceCredential(), TargetCredential());

        Assert.Empty(loaded.Errors);
        var summary = Assert.Single(loaded.Output, o => o.TypeNames[0] == "Molt.BulkLoadSummary");
        Assert.Equal("Succeeded", Convert.ToString(summary.Properties["Status"].Value, CultureInfo.InvariantCulture));
        var value = summary.Properties["NotCarried"].Value;
        var facts = ((IEnumerable<object>)(value is PSObject wrapped ? wrapped.BaseObject : value)).Select(PSObject.AsPSObject).ToList();
        Assert.Equal(Facts.Order(), facts.Select(f => (string)f.Properties["What"].Value).Order());
        Assert.All(facts, f => Assert.Equal("facts_src.orders", f.Properties["Table"].Value));
        Assert.Equal("slashed", facts.Single(f => (string)f.Properties["What"].Value == "generated column slashed").Properties["Column"].Value);
        Assert.Null(facts.Single(f => (string)f.Properties["What"].Value == "check constraint note_like").Properties["Column"].Value);
        Assert.All(facts, f => Assert.False(string.IsNullOrWhiteSpace((string)f.Properties["Why"].Value)));

        var recorded = await servers.Postgres.ScalarAsync<string>(target,
            "SELECT string_agg(source_table || ': ' || message, E'\\n' ORDER BY message COLLATE \"C\") FROM _molt.fetch_exceptions WHERE stage = 'post_load'");
        Assert.Equal(string.Join('\n', facts.Select(f => $"{f.Properties["Table"].Value}: not carried over: {f.Properties["What"].Value}: {f.Properties["Why"].Value}").Order(StringComparer.Ordinal)),
            recorded);
        // The column whose expression did not translate was copied with the source's values, never dropped.
        Assert.Equal("0.6250|", await servers.Postgres.ScalarAsync<string>(target, "SELECT string_agg(coalesce(slashed::text, ''), '|' ORDER BY id) FROM orders"));
    }

    private string SourceUri(string database) => servers.MariaDb.ConnectionUri(database, password: string.Empty).Replace(":@", "@");

    private string TargetUri(string database) => servers.Postgres.ConnectionUri(database, password: string.Empty).Replace(":@", "@");

    private PSCredential SourceCredential() => MoltSession.Credential(servers.MariaDb.AdminUser, servers.MariaDb.AdminPassword);

    private PSCredential TargetCredential() => MoltSession.Credential(servers.Postgres.AdminUser, servers.Postgres.AdminPassword);
}
