using Molt.Engine.Schema;
using Molt.Engine.State;

namespace Molt.Engine.Load;

/// <summary>
/// Between a run's recorded selection (State's, which knows no load options) and the load's options: the selection is
/// recorded from the options when a run starts and put back in place of the resuming invocation's.
/// </summary>
internal static class LoadSelectionOptions
{
    public static LoadSelection SelectionOf(this BulkLoadOptions options, IEnumerable<TableName> tables) =>
        new(tables.Order().ToList(), options.Filter, options.TableHandling, options.Where, options.TypeMap, options.TargetSchema, options.IdentifierCase);

    /// <summary><paramref name="options"/> with <paramref name="selection"/> in place of its own.</summary>
    public static BulkLoadOptions ApplyTo(this LoadSelection selection, BulkLoadOptions options) => options with
    {
        Filter = selection.Filter,
        TableHandling = selection.TableHandling,
        Where = selection.Where,
        TypeMap = selection.TypeMap,
        TargetSchema = selection.TargetSchema,
        IdentifierCase = selection.IdentifierCase,
    };
}
