using System.Globalization;
using Molt.Engine.Replication;
using MySqlConnector;

namespace Molt.Engine.Endpoints.MySql.Apply;

/// <summary>
/// Failback's checkpoints on a MySQL or MariaDB original: <c>`_molt`.`replication_checkpoints`</c>, an InnoDB table
/// (so a checkpoint commits or rolls back with the rows it covers), one row per stream.
/// </summary>
internal static class MySqlCheckpointStore
{
    private const string Table = "`_molt`.`replication_checkpoints`";

    private static readonly string[] Schema =
    [
        "CREATE DATABASE IF NOT EXISTS `_molt`",
        $"""
        CREATE TABLE IF NOT EXISTS {Table} (
          fetch_id VARCHAR(255) NOT NULL PRIMARY KEY,
          notation VARCHAR(32) NOT NULL,
          position TEXT NOT NULL,
          source_committed_at DATETIME(6) NOT NULL,
          transactions BIGINT NOT NULL,
          inserts BIGINT NOT NULL,
          updates BIGINT NOT NULL,
          deletes BIGINT NOT NULL,
          updated_at DATETIME(6) NOT NULL
        ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
        """,
    ];

    public static async Task EnsureSchemaAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        foreach (var statement in Schema)
        {
            await using var command = new MySqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The stream's checkpoint, or null where there is none (also where the table was never created).</summary>
    public static async Task<ReplicationCheckpoint?> ReadAsync(MySqlConnection connection, string fetchId, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            $"SELECT notation, position, source_committed_at, transactions, inserts, updates, deletes FROM {Table} WHERE fetch_id = @id", connection);
        command.Parameters.AddWithValue("@id", fetchId);
        MySqlDataReader reader;
        try
        {
            reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.NoSuchTable or MySqlErrorCode.UnknownDatabase)
        {
            return null;
        }

        await using var _ = reader;
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var committedAt = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(2), DateTimeKind.Utc));
        return new ReplicationCheckpoint(fetchId, SourcePosition.Parse(reader.GetString(0), reader.GetString(1)), committedAt)
        {
            Transactions = reader.GetInt64(3),
            Inserts = reader.GetInt64(4),
            Updates = reader.GetInt64(5),
            Deletes = reader.GetInt64(6),
        };
    }

    /// <summary>Writes the checkpoint in <paramref name="transaction"/>, which commits it with the rows.</summary>
    public static async Task WriteAsync(MySqlConnection connection, MySqlTransaction transaction, ReplicationCheckpoint checkpoint,
        CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            $"""
            INSERT INTO {Table} (fetch_id, notation, position, source_committed_at, transactions, inserts, updates, deletes, updated_at)
            VALUES (@id, @notation, @position, @committed, @transactions, @inserts, @updates, @deletes, UTC_TIMESTAMP(6))
            ON DUPLICATE KEY UPDATE notation = VALUES(notation), position = VALUES(position), source_committed_at = VALUES(source_committed_at),
              transactions = VALUES(transactions), inserts = VALUES(inserts), updates = VALUES(updates), deletes = VALUES(deletes), updated_at = VALUES(updated_at)
            """, connection, transaction);
        command.Parameters.AddWithValue("@id", checkpoint.FetchId);
        command.Parameters.AddWithValue("@notation", checkpoint.Position.Notation);
        command.Parameters.AddWithValue("@position", checkpoint.Position.ToString());
        command.Parameters.AddWithValue("@committed", checkpoint.SourceCommittedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("@transactions", checkpoint.Transactions);
        command.Parameters.AddWithValue("@inserts", checkpoint.Inserts);
        command.Parameters.AddWithValue("@updates", checkpoint.Updates);
        command.Parameters.AddWithValue("@deletes", checkpoint.Deletes);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
