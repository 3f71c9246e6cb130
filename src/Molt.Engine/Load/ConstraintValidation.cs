using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Load;

/// <summary>
/// Re-validates a table's foreign keys and CHECK constraints. IMPORT INTO leaves them unvalidated on the table it loads
/// ("After importing into an existing table, constraints will be un-validated and need to be re-validated",
/// https://www.cockroachlabs.com/docs/stable/import-into#considerations and known-limitations), so rows that break them
/// would otherwise go unnoticed. pg_constraint and VALIDATE CONSTRAINT are spelled the same on PostgreSQL and
/// CockroachDB (https://www.cockroachlabs.com/docs/stable/alter-table#validate-constraint).
/// </summary>
internal static class ConstraintValidation
{
    /// <summary>Validates each constraint in turn; returns the first that the table's rows break, with the server's reason, or null.</summary>
    public static async Task<string?> ValidateAsync(NpgsqlConnection connection, ITargetDialect dialect, TableName table,
        CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await using (var list = new NpgsqlCommand(
                         "SELECT conname FROM pg_catalog.pg_constraint WHERE conrelid = $1::regclass AND contype IN ('f', 'c') ORDER BY conname", connection))
        {
            list.Parameters.Add(new NpgsqlParameter { Value = dialect.Quote(table) });
            await using var reader = await list.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                names.Add(reader.GetString(0));
            }
        }

        foreach (var name in names)
        {
            try
            {
                await using var validate = new NpgsqlCommand($"ALTER TABLE {dialect.Quote(table)} VALIDATE CONSTRAINT {dialect.Quote(name)}", connection);
                await validate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex)
            {
                return $"constraint {name} does not hold for the imported rows: {ex.MessageText}";
            }
        }

        return null;
    }
}
