using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Load;
using Molt.Engine.Schema;
using Npgsql;

namespace Molt.Engine.Endpoints.Cockroach;

/// <summary>
/// What CockroachDB's information_schema tells: foreign keys (table_constraints, with constraint_column_usage naming
/// the referenced table, https://www.cockroachlabs.com/docs/stable/information-schema). It cannot tell which views
/// read a table: CockroachDB's view_table_usage exists but is empty (not implemented), so views are left to DROP's
/// RESTRICT, which refuses to drop a table a view depends on.
/// </summary>
internal sealed class CockroachTargetDependents : ITargetDependents
{
    /// <summary>
    /// Joined by schema and constraint name, which the standard takes as unique; where two tables of a schema have
    /// foreign keys of the same name, one may be taken to reference the other's table too: a refusal too many, never one too few.
    /// </summary>
    private const string ForeignKeysSql = """
        SELECT DISTINCT fk.table_schema::text, fk.table_name::text, fk.constraint_name::text, used.table_schema::text, used.table_name::text
        FROM information_schema.table_constraints fk
        JOIN information_schema.constraint_column_usage used
          ON used.constraint_schema = fk.constraint_schema AND used.constraint_name = fk.constraint_name
        WHERE fk.constraint_type = 'FOREIGN KEY'
        """;

    public string? UnlistedDropDependents =>
        "CockroachDB's information_schema does not say which views read a table, so any view on these tables is dropped too";

    public async Task<IReadOnlyList<TargetDependent>> TruncatedWithAsync(NpgsqlConnection connection, IReadOnlyCollection<TableName> tables,
        CancellationToken cancellationToken) =>
        ForeignKeyReference.TruncatedWith(await ForeignKeyReference.ReadAsync(connection, ForeignKeysSql, cancellationToken).ConfigureAwait(false), tables);

    public async Task<IReadOnlyList<TargetDependent>> DroppedWithAsync(NpgsqlConnection connection, IReadOnlyCollection<TableName> tables,
        CancellationToken cancellationToken) =>
        ForeignKeyReference.DroppedWith(await ForeignKeyReference.ReadAsync(connection, ForeignKeysSql, cancellationToken).ConfigureAwait(false), tables);
}
