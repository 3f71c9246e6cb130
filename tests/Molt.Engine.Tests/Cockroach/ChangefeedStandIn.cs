using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Replication;
using Molt.Engine.Sessions;
using Molt.Testing;
using Npgsql;

namespace Molt.Engine.Tests.Cockroach;

/// <summary>
/// A PostgreSQL database standing in for a CockroachDB failback source: the changefeed's rows (table, key, value, as the
/// sinkless changefeed returns them: https://www.cockroachlabs.com/docs/stable/changefeed-for) are kept in
/// <c>feed.rows</c>, the cluster's HLC and the tables' gc.ttlseconds in <c>feed.clock</c>, and <see cref="Sql"/> answers
/// the change source's statements from them. The feed sends every row it holds whatever the cursor (as a changefeed
/// re-delivers after a restart), then stays open as a changefeed does: 2,000 copies of the last resolved message make
/// PostgreSQL flush its 8 kB output buffer past the rows, then pg_sleep holds the query for 15 s (a feed that ends is
/// started again by the loop, from its checkpoint).
/// </summary>
internal sealed class ChangefeedStandIn(PostgresServer server, string database)
{
    public const string Schema = """
        CREATE SCHEMA feed;
        CREATE TABLE feed.rows (seq serial PRIMARY KEY, "table" text, key text, value text NOT NULL);
        CREATE TABLE feed.clock (now text NOT NULL, ttl int NOT NULL);
        """;

    public static ChangefeedSql Sql { get; } = new(
        table => $"SELECT '{table}' AS target, 'ALTER TABLE {table} CONFIGURE ZONE USING range_min_bytes = 134217728, gc.ttlseconds = ' || ttl || ', num_replicas = 3' AS raw_config_sql FROM feed.clock",
        "SELECT now FROM feed.clock",
        (_, _, _, _) => """
            SELECT "table", convert_to(key, 'UTF8') AS key, convert_to(value, 'UTF8') AS value FROM (
              (SELECT "table", key, value FROM feed.rows ORDER BY seq)
              UNION ALL SELECT NULL, NULL, (SELECT value FROM feed.rows WHERE "table" IS NULL ORDER BY seq DESC LIMIT 1) FROM generate_series(1, 2000)
              UNION ALL SELECT NULL, NULL, NULL FROM (SELECT pg_sleep(15)) AS waited(v) WHERE random() < 0) AS feed
            """);

    /// <summary>The failback change source over this stand-in, as the registry gives a CockroachDB target's (no slot).</summary>
    public ReplicationSource Source(EndpointAddress target) =>
        new(new CockroachChangefeedSource(target, Sql), null, null, _ => Task.FromResult((false, false)),
            _ => throw new InvalidOperationException("Failback reads no load position."));

    /// <summary>What a CockroachDB cutover records: the forward stream stopped, with the HLC failback starts after.</summary>
    public static async Task RecordCutOverAsync(EndpointAddress target, string fetchId, string hlc, CancellationToken cancellationToken)
    {
        var (state, control) = await DatabaseRegistry.OpenReplicationControlAsync(target, cancellationToken);
        await using (state)
        {
            await using (await control.ClaimAsync(fetchId, cancellationToken))
            {
                await control.PublishAsync(new ReplicationStatus(fetchId, ReplicationState.Stopped, DateTimeOffset.UtcNow) { TargetPosition = CockroachHlc.Parse(hlc) },
                    cancellationToken);
            }
        }
    }

    /// <summary>A row version of <paramref name="table"/> (schema public), its topic as full_table_name names it.</summary>
    public Task RowAsync(string table, string key, string value) =>
        ExecuteAsync("INSERT INTO feed.rows (\"table\", key, value) VALUES ($1, $2, $3)", $"{database}.public.{table}", key, value);

    /// <summary>A resolved message: its own envelope, no table or key (https://www.cockroachlabs.com/docs/stable/changefeed-message-envelopes).</summary>
    public Task ResolvedAsync(string hlc) => ExecuteAsync("INSERT INTO feed.rows (value) VALUES ($1)", $$"""{"resolved": "{{hlc}}"}""");

    public async Task ClockAsync(string now, int ttlSeconds)
    {
        await ExecuteAsync("DELETE FROM feed.clock");
        await ExecuteAsync("INSERT INTO feed.clock VALUES ($1, $2)", now, ttlSeconds);
    }

    /// <summary>The application's writes on the stand-in's tables, so its rows are what the original must end up with.</summary>
    public Task WriteAsync(string sql) => server.ExecuteAsync(database, sql);

    private async Task ExecuteAsync(string sql, params object[] values)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync();
    }
}
