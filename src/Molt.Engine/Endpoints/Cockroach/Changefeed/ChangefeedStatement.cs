using System.Globalization;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Replication;
using Molt.Engine.Schema;

namespace Molt.Engine.Endpoints.Cockroach.Changefeed;

/// <summary>How often the changefeed closes a window, and so how far failback lags behind the target at least.</summary>
internal sealed record ChangefeedOptions
{
    /// <summary>The least advance between two resolved messages (option <c>resolved</c>).</summary>
    public TimeSpan Resolved { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often nodes report progress (option <c>min_checkpoint_frequency</c>). Resolved messages are never more frequent
    /// than checkpoints and the default is 30 s, so it is set to <see cref="Resolved"/>:
    /// https://www.cockroachlabs.com/docs/stable/create-changefeed#resolved ("If you set resolved lower than 30s, then you
    /// must also set min_checkpoint_frequency to at minimum the same value").
    /// </summary>
    public TimeSpan MinCheckpointFrequency => Resolved;
}

/// <summary>
/// The sinkless changefeed Molt reads failback changes from: <c>CREATE CHANGEFEED FOR TABLE ... WITH ...</c> without
/// <c>INTO</c> streams its messages back as the rows of the statement (https://www.cockroachlabs.com/docs/stable/create-changefeed
/// "Create a sinkless changefeed"; columns table, key, value: https://www.cockroachlabs.com/docs/stable/changefeed-for).
/// </summary>
internal static class ChangefeedStatement
{
    /// <summary>
    /// The statement for the tables (in the connection's database), resuming after <paramref name="cursor"/>. Each option,
    /// from https://www.cockroachlabs.com/docs/stable/create-changefeed#options:
    /// <list type="bullet">
    /// <item><c>updated</c>: each row carries its commit (MVCC) timestamp when a cursor is given, the order of a window.</item>
    /// <item><c>resolved</c>: "the high-water mark that guarantees that no previously unseen rows with an earlier update
    /// timestamp will be emitted" (https://www.cockroachlabs.com/docs/stable/changefeed-messages#resolved-messages): it closes a window.</item>
    /// <item><c>diff</c>: a <c>before</c> field, null for an insert (https://www.cockroachlabs.com/docs/stable/changefeed-message-envelopes#audit-changes-in-data).</item>
    /// <item><c>envelope = 'wrapped'</c> (the default, stated so the shape never depends on a default) and <c>format = 'json'</c>.</item>
    /// <item><c>full_table_name</c>: the table column is database.schema.table, so tables of two schemas never collide.</item>
    /// <item><c>encode_json_value_null_as_object</c>: a JSONB <c>null</c> arrives as <c>{"__crdb_json_null__": true}</c>, apart
    /// from SQL NULL (https://www.cockroachlabs.com/docs/stable/changefeed-messages#json).</item>
    /// <item><c>cursor</c>: "Emit any changes after the given timestamp", with no initial scan.</item>
    /// </list>
    /// </summary>
    public static string For(string database, IReadOnlyList<TableName> tables, CockroachHlc cursor, ChangefeedOptions options)
    {
        if (tables.Count == 0)
        {
            throw new ArgumentException("A changefeed watches at least one table.", nameof(tables));
        }

        // Sorted, so the same tables always give the same statement.
        var names = string.Join(", ", tables.Order().Select(t => $"{PgWireSyntax.Quote(database)}.{PgWireSyntax.Quote(t)}"));
        return $"CREATE CHANGEFEED FOR TABLE {names} WITH updated, resolved = '{Duration(options.Resolved)}', " +
            $"min_checkpoint_frequency = '{Duration(options.MinCheckpointFrequency)}', diff, envelope = 'wrapped', format = 'json', " +
            $"full_table_name, encode_json_value_null_as_object, cursor = '{cursor}'";
    }

    /// <summary>The topic (the table column) of a table under <c>full_table_name</c>: database.schema.table, unquoted.</summary>
    public static string Topic(string database, TableName table) => $"{database}.{table.Schema}.{table.Name}";

    /// <summary>A Go duration string (https://pkg.go.dev/time#ParseDuration), the type of resolved and min_checkpoint_frequency.</summary>
    internal static string Duration(TimeSpan span) =>
        span.TotalMilliseconds % 1000 == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{(long)span.TotalSeconds}s")
            : string.Create(CultureInfo.InvariantCulture, $"{(long)span.TotalMilliseconds}ms");
}
