using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>
/// The three statements the changefeed change source runs on the target: a table's zone configuration (its
/// gc.ttlseconds), the cluster's HLC now, and the changefeed itself. CockroachDB's own (<see cref="Cockroach"/>) are
/// what Molt runs; the session tests give a PostgreSQL server statements returning the same columns, since no cluster
/// runs where Molt is tested.
/// </summary>
/// <param name="Zone">One row with a <c>raw_config_sql</c> column holding <c>gc.ttlseconds = N</c>.</param>
/// <param name="Now">One row, one column: an HLC as text.</param>
/// <param name="Feed">Rows of (table, key, value) as a sinkless changefeed returns them, after the cursor, for the tables of the database.</param>
internal sealed record ChangefeedSql(Func<TableName, string> Zone, string Now, Func<string, IReadOnlyList<TableName>, CockroachHlc, ChangefeedOptions, string> Feed)
{
    public static ChangefeedSql Cockroach { get; } = new(ChangefeedGcWindow.ZoneSql, ChangefeedGcWindow.NowSql, ChangefeedStatement.For);
}
