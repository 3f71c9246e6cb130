using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Endpoints.Postgres.Replication;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Npgsql;

namespace Molt.Engine.Sessions;

/// <summary>What each database contributes to change replication: a change source, and the spelling of its applier.</summary>
internal static partial class DatabaseRegistry
{
    // Properties, not fields: the database table above is built from them, and fields of two partial files initialize in no fixed order.
    private static ReplicationParts PostgresReplication => new()
    {
        Source = new ChangeSourceParts(
            PostgresPublication.DefaultSlotName,
            PostgresPublication.DefaultName,
            (address, slot, publication) => new PostgresChangeSource(address, slot, publication),
            PreparePostgresPublicationAsync,
            RemovePostgresReplicationAsync,
            PostgresLsn.Parse),
        ApplySql = dialect => new PostgresApplySql(dialect),
    };

    private static ReplicationParts CockroachReplication => new() { ApplySql = dialect => new CockroachApplySql(dialect) };

    /// <summary>The change source of a replication from <paramref name="address"/>, with its slot and publication named.</summary>
    /// <exception cref="MoltException">The database cannot be replicated from (yet).</exception>
    public static async Task<ReplicationSource> OpenReplicationSourceAsync(EndpointAddress address, string fetchId, string? slot, string? publication,
        CancellationToken cancellationToken)
    {
        var resolved = await ResolveAsync(address, cancellationToken).ConfigureAwait(false);
        var parts = Databases[resolved.Kind].Replication?.Source ?? throw new MoltException(MoltErrorKind.InvalidArgument, "ReplicationSourceUnsupported",
            $"Replication from {resolved.Kind.DisplayName()} is not available.", "Replicate from PostgreSQL; load other sources with Start-MoltBulkLoad.")
        {
            Target = address.Label,
        };
        var slotName = slot ?? parts.DefaultSlot(fetchId);
        var publicationName = publication ?? parts.DefaultPublication(fetchId);
        return new ReplicationSource(parts.Open(resolved, slotName, publicationName), slotName, publicationName,
            ct => parts.Remove(resolved, slotName, publicationName, ct), parts.ParsePosition);
    }

    /// <summary>
    /// Creates (or checks) the publication of <paramref name="tables"/> a replication from <paramref name="address"/> reads,
    /// before a load creates its slot; nothing for a database without one.
    /// </summary>
    public static async Task PrepareReplicationPublicationAsync(EndpointAddress address, string fetchId, string? publication, IReadOnlyList<TableModel> tables,
        CancellationToken cancellationToken)
    {
        if (Databases[address.Kind].Replication?.Source is { } parts)
        {
            await parts.Prepare(address, publication ?? parts.DefaultPublication(fetchId), tables, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The applier and the stream control of a replication into <paramref name="address"/>.</summary>
    public static async Task<ReplicationTarget> OpenReplicationTargetAsync(EndpointAddress address, Load.BulkLoadOptions options, ApplyBatchLimits limits,
        CancellationToken cancellationToken)
    {
        EnsureLoadTarget(address);
        var server = (await ResolveAsync(address, cancellationToken).ConfigureAwait(false)).Kind;
        var database = Databases[server];
        var dataSource = PgWireConnections.CreateDataSource(address, sessionSettings: database.LoadTarget!.SessionSettings,
            commandTimeout: PgWireChangeApplier.CommandTimeoutSeconds);
        try
        {
            var dialect = database.LoadTarget.Dialect(options);
            // A target with a per-transaction row bound (CockroachDB) keeps batches under it.
            var bounded = dialect.MaxRowsPerTransaction is { } max && max < limits.MaxRows ? limits with { MaxRows = (int)max } : limits;
            var applier = await PgWireChangeApplier.OpenAsync(dataSource, database.Replication!.ApplySql(dialect), bounded, cancellationToken).ConfigureAwait(false);
            return new ReplicationTarget(dataSource, applier, new PgWireReplicationControl(dataSource, database.LoadTarget.Lease), bounded);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The stream control alone (Stop-, Get-MoltReplicationStatus): the target's <c>_molt</c> state and how its server holds claims.</summary>
    public static async Task<(NpgsqlDataSource DataSource, PgWireReplicationControl Control)> OpenReplicationControlAsync(EndpointAddress address,
        CancellationToken cancellationToken)
    {
        var (dataSource, lease) = await OpenStateAsync(address, cancellationToken).ConfigureAwait(false);
        return (dataSource, new PgWireReplicationControl(dataSource, lease));
    }

    /// <summary>Creating the publication before the slot: PostgreSQL older than 18 cannot decode changes older than the publication.</summary>
    private static async Task PreparePostgresPublicationAsync(EndpointAddress address, string publication, IReadOnlyList<TableModel> tables,
        CancellationToken cancellationToken)
    {
        await using var connection = await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        await PostgresPublication.EnsureAsync(connection, publication, tables, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<(bool Slot, bool Publication)> RemovePostgresReplicationAsync(EndpointAddress address, string slot, string publication,
        CancellationToken cancellationToken)
    {
        await using var connection = await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        return await PostgresPublication.DropAsync(connection, slot, publication, cancellationToken).ConfigureAwait(false);
    }

    private sealed record ReplicationParts
    {
        /// <summary>Null where the database cannot be replicated from.</summary>
        public ChangeSourceParts? Source { get; init; }

        public required Func<ITargetDialect, PgWireApplySql> ApplySql { get; init; }
    }

    private sealed record ChangeSourceParts(
        Func<string, string> DefaultSlot,
        Func<string, string> DefaultPublication,
        Func<EndpointAddress, string, string, IChangeSource> Open,
        Func<EndpointAddress, string, IReadOnlyList<TableModel>, CancellationToken, Task> Prepare,
        Func<EndpointAddress, string, string, CancellationToken, Task<(bool Slot, bool Publication)>> Remove,
        Func<string, SourcePosition> ParsePosition);
}

/// <summary>A replication's change source with its named slot and publication, and what only that database knows how to do.</summary>
internal sealed record ReplicationSource(IChangeSource Source, string Slot, string Publication,
    Func<CancellationToken, Task<(bool Slot, bool Publication)>> RemoveAsync,
    Func<string, SourcePosition> ParsePosition);

/// <summary>A replication's target: its applier (also the target's own position) and the stream control in its <c>_molt</c>.</summary>
internal sealed record ReplicationTarget(NpgsqlDataSource DataSource, PgWireChangeApplier Applier, PgWireReplicationControl Control, ApplyBatchLimits Limits)
    : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Applier.DisposeAsync().ConfigureAwait(false);
        await DataSource.DisposeAsync().ConfigureAwait(false);
    }
}
