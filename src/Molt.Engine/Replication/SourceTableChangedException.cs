using Molt.Engine.Schema;

namespace Molt.Engine.Replication;

/// <summary>
/// A replicated table changed on the database a change source reads (<c>SchemaChanged</c>): the table and what changed
/// are kept apart from the message, so failback, which reads the migration target, can say it in its own direction.
/// </summary>
internal sealed class SourceTableChangedException(TableName table, string difference, string message, string remedy)
    : MoltException(MoltErrorKind.SchemaMismatch, "SchemaChanged", message, remedy)
{
    public TableName Table { get; } = table;

    /// <summary>What changed, e.g. <c>column "note" (text) was added</c>.</summary>
    public string Difference { get; } = difference;
}
