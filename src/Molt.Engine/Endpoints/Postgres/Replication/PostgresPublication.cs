using System.Text;
using Molt.Engine.Schema;
using Npgsql;
using static Molt.Engine.Endpoints.PgWire.PgWireSyntax;

namespace Molt.Engine.Endpoints.Postgres.Replication;

/// <summary>
/// The publication that selects which tables' changes a logical slot decodes (pgoutput sends only published tables), and
/// the teardown of a stream's slot and publication.
/// </summary>
internal static class PostgresPublication
{
    private const int MaxIdentifierBytes = 63;

    /// <summary>The publication name a stream uses unless told otherwise: molt_ and the FetchId, as a plain lower-case identifier.</summary>
    public static string DefaultName(string fetchId) => PlainIdentifier("molt_" + fetchId);

    /// <summary>The slot name a stream uses unless told otherwise: the same as the publication's, which slot names allow (a-z, 0-9, _).</summary>
    public static string DefaultSlotName(string fetchId) => DefaultName(fetchId);

    /// <summary>
    /// The slot and publication on a migration target that failback of a stream reads: moltfb_ and the FetchId, never a
    /// forward stream's name (slot names are the whole server's, and a test or a small setup keeps both databases on one).
    /// </summary>
    public static string FailbackName(string fetchId) => PlainIdentifier("moltfb_" + fetchId);

    /// <summary>
    /// Creates the publication for exactly <paramref name="tables"/>, or checks that an existing one of that name publishes
    /// exactly them with inserts, updates, deletes and truncates. Create it BEFORE the slot: pgoutput looks the publication
    /// up as of each decoded change, and a change older than the publication fails decoding ("publication does not exist").
    /// </summary>
    /// <exception cref="MoltException">A table cannot be identified (no primary key, no REPLICA IDENTITY FULL), or the existing publication differs.</exception>
    public static async Task<IReadOnlyList<ReplicaIdentity>> EnsureAsync(NpgsqlConnection connection, string publication, IReadOnlyList<TableModel> tables,
        CancellationToken cancellationToken)
    {
        var identities = await ReplicaIdentity.ReadAsync(connection, tables, cancellationToken).ConfigureAwait(false);
        ReplicaIdentity.RequireIdentifiable(identities);
        if (await ReadAsync(connection, publication, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            RequireSame(publication, existing, tables);
            return identities;
        }

        // Changes of a partitioned table are published under the table itself, as the load reads it, not under its partitions.
        var list = string.Join(", ", tables.Select(t => Quote(t.Name)));
        await using var command = new NpgsqlCommand(
            $"CREATE PUBLICATION {Quote(publication)} FOR TABLE {list} WITH (publish = 'insert, update, delete, truncate', publish_via_partition_root = true)",
            connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return identities;
    }

    /// <summary>Refuses a slot that already exists, as creating it would (<c>ReplicationSlotExists</c>), before anything is created for it.</summary>
    public static async Task RequireNoSlotAsync(NpgsqlConnection connection, string slot, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", connection)
        {
            Parameters = { new NpgsqlParameter { Value = slot } },
        };
        if ((long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0)
        {
            throw SlotExists(slot);
        }
    }

    /// <summary>The error for a slot name already taken on the source.</summary>
    public static MoltException SlotExists(string slot) =>
        new(MoltErrorKind.InvalidState, "ReplicationSlotExists", $"The replication slot '{slot}' already exists on the source.",
            $"Drop it (SELECT pg_drop_replication_slot('{slot}')) if no replication uses it, or choose another -ReplicationSlot name.");

    /// <summary>Checks, without changing anything, that the publication exists and publishes exactly <paramref name="tables"/>.</summary>
    /// <exception cref="MoltException">The publication is missing or differs.</exception>
    public static async Task RequireAsync(NpgsqlConnection connection, string publication, IReadOnlyList<TableModel> tables, CancellationToken cancellationToken)
    {
        var existing = await ReadAsync(connection, publication, cancellationToken).ConfigureAwait(false)
            ?? throw new MoltException(MoltErrorKind.NotFound, "PublicationNotFound", $"The publication '{publication}' does not exist on the source.",
                "It was dropped after replication began: changes since then cannot be decoded. Remove the replication (Remove-MoltReplication) and start it again.")
            { Target = publication };
        RequireSame(publication, existing, tables);
    }

    /// <summary>
    /// Drops the slot (so the source stops keeping WAL for it) and the publication; either may already be gone.
    /// Returns what was dropped.
    /// </summary>
    /// <exception cref="MoltException">The slot is in use by a running stream.</exception>
    public static async Task<(bool Slot, bool Publication)> DropAsync(NpgsqlConnection connection, string slot, string publication, CancellationToken cancellationToken)
    {
        bool slotDropped;
        try
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()", connection)
            {
                Parameters = { new NpgsqlParameter { Value = slot } },
            };
            slotDropped = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ObjectInUse)
        {
            throw new MoltException(MoltErrorKind.InUse, "ReplicationSlotInUse", $"The replication slot '{slot}' is in use by a running stream: {ex.MessageText}",
                "Stop the replication first (Stop-MoltReplication), then remove it.", ex) { Target = slot };
        }

        await using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_publication WHERE pubname = $1", connection)
        {
            Parameters = { new NpgsqlParameter { Value = publication } },
        };
        var publicationDropped = (long)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0;
        if (publicationDropped)
        {
            await using var drop = new NpgsqlCommand($"DROP PUBLICATION IF EXISTS {Quote(publication)}", connection);
            await drop.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return (slotDropped, publicationDropped);
    }

    private sealed record Existing(IReadOnlySet<TableName> Tables, bool PublishesEverything, bool AllTables, bool ViaRoot);

    private static async Task<Existing?> ReadAsync(NpgsqlConnection connection, string publication, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT p.puballtables, p.pubinsert AND p.pubupdate AND p.pubdelete AND p.pubtruncate, p.pubviaroot,
                   ARRAY(SELECT t.schemaname FROM pg_publication_tables t WHERE t.pubname = p.pubname ORDER BY t.schemaname, t.tablename),
                   ARRAY(SELECT t.tablename FROM pg_publication_tables t WHERE t.pubname = p.pubname ORDER BY t.schemaname, t.tablename)
            FROM pg_publication p WHERE p.pubname = $1
            """;
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new NpgsqlParameter { Value = publication } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var schemas = reader.GetFieldValue<string[]>(3);
        var names = reader.GetFieldValue<string[]>(4);
        return new Existing(schemas.Zip(names, (s, n) => new TableName(s, n)).ToHashSet(), reader.GetBoolean(1), reader.GetBoolean(0), reader.GetBoolean(2));
    }

    private static void RequireSame(string publication, Existing existing, IReadOnlyList<TableModel> tables)
    {
        var planned = tables.Select(t => t.Name).ToHashSet();
        var missing = planned.Where(t => !existing.Tables.Contains(t)).Order().ToList();
        var extra = existing.Tables.Where(t => !planned.Contains(t)).Order().ToList();
        var problems = new List<string>();
        if (missing.Count > 0)
        {
            problems.Add($"does not publish {string.Join(", ", missing)}");
        }

        if (extra.Count > 0 && !existing.AllTables)
        {
            problems.Add($"also publishes {string.Join(", ", extra)}");
        }

        if (existing.AllTables)
        {
            problems.Add("publishes all tables");
        }

        if (!existing.PublishesEverything)
        {
            problems.Add("does not publish all of insert, update, delete and truncate");
        }

        if (!existing.ViaRoot && tables.Any(t => t.IsPartitioned))
        {
            problems.Add("publishes partitioned tables under their partitions (publish_via_partition_root is off)");
        }

        if (problems.Count > 0)
        {
            throw new MoltException(MoltErrorKind.InvalidState, "PublicationDiffers",
                $"The publication '{publication}' exists on the source but {string.Join("; ", problems)}.",
                "Choose another -PublicationName, or drop it (DROP PUBLICATION) if nothing else uses it.") { Target = publication };
        }
    }

    // Lower case letters, digits and underscores only, within PostgreSQL's 63-byte identifier limit.
    private static string PlainIdentifier(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            builder.Append(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' ? c : '_');
        }

        return builder.Length > MaxIdentifierBytes ? builder.ToString(0, MaxIdentifierBytes) : builder.ToString();
    }
}
