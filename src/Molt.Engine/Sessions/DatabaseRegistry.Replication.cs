using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.MySql.Replication;
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
            (address, slot, publication, _) => new PostgresChangeSource(address, slot!, publication!),
            PreparePostgresPublicationAsync,
            RemovePostgresReplicationAsync,
            (_, run) => PostgresLsn.Parse(run.SnapshotPosition!)),
        ApplySql = dialect => new PostgresApplySql(dialect),
    };

    /// <summary>
    /// A binlog reader creates nothing on the source: no slot to name, no publication to prepare or drop; the load's
    /// snapshot records where the stream starts.
    /// </summary>
    private static ReplicationParts MySqlReplication => new()
    {
        Source = new ChangeSourceParts(
            null,
            null,
            (address, _, _, zeroDates) => new MySqlChangeSource(address, zeroDates),
            null,
            null,
            MySqlLoadPosition),
    };

    private static ReplicationParts CockroachReplication => new() { ApplySql = dialect => new CockroachApplySql(dialect) };

    /// <summary>
    /// The change source of a replication from <paramref name="address"/>, with its slot and publication named where the
    /// database has them; <paramref name="zeroDates"/> is what the load made of zero dates (a MySQL-family source
    /// converts streamed values as the load did).
    /// </summary>
    /// <exception cref="MoltException">The database cannot be replicated from (yet), or a slot or publication is named for one without them.</exception>
    public static async Task<ReplicationSource> OpenReplicationSourceAsync(EndpointAddress address, string fetchId, string? slot, string? publication,
        CancellationToken cancellationToken, ZeroDateHandling zeroDates = ZeroDateHandling.Null)
    {
        var resolved = await ResolveAsync(address, cancellationToken).ConfigureAwait(false);
        var parts = Databases[resolved.Kind].Replication?.Source ?? throw new MoltException(MoltErrorKind.InvalidArgument, "ReplicationSourceUnsupported",
            $"Replication from {resolved.Kind.DisplayName()} is not available.", "Replicate from PostgreSQL, MySQL or MariaDB; load other sources with Start-MoltBulkLoad.")
        {
            Target = address.Label,
        };
        if (parts.DefaultSlot is null && (slot ?? publication) is not null)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "ReplicationSlotNotApplicable",
                $"{resolved.Kind.DisplayName()} has no replication slots or publications: its changes are read from the binlog, from the position the load recorded.",
                "Leave -SlotName and -PublicationName out for a MySQL or MariaDB source.")
            {
                Target = address.Label,
            };
        }

        var slotName = slot ?? parts.DefaultSlot?.Invoke(fetchId);
        var publicationName = publication ?? parts.DefaultPublication?.Invoke(fetchId);
        return new ReplicationSource(parts.Open(resolved, slotName, publicationName, zeroDates), slotName, publicationName,
            ct => parts.Remove is { } remove ? remove(resolved, slotName!, publicationName!, ct) : Task.FromResult((false, false)),
            run => parts.LoadPosition(resolved.Kind, run));
    }

    /// <summary>
    /// Creates (or checks) the publication of <paramref name="tables"/> a replication from <paramref name="address"/> reads,
    /// before a load creates its slot; nothing for a database without one.
    /// </summary>
    public static async Task PrepareReplicationPublicationAsync(EndpointAddress address, string fetchId, string? publication, IReadOnlyList<TableModel> tables,
        CancellationToken cancellationToken)
    {
        if (Databases[address.Kind].Replication?.Source is { Prepare: { } prepare, DefaultPublication: { } defaultPublication })
        {
            await prepare(address, publication ?? defaultPublication(fetchId), tables, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The applier and the stream control of a replication into <paramref name="address"/>.</summary>
    public static async Task<ReplicationTarget> OpenReplicationTargetAsync(EndpointAddress address, Load.BulkLoadOptions options, ApplyBatchLimits limits,
        CancellationToken cancellationToken)
    {
        EnsureLoadTarget(address);
        var server = (await ResolveAsync(address, cancellationToken).ConfigureAwait(false)).Kind;
        var database = Databases[server];
        var dataSource = PgWireConnections.CreateDataSource(address, sessionSettings: database.LoadTarget!.SessionSettings);
        try
        {
            var dialect = database.LoadTarget.Dialect(options);
            // A target with a per-transaction row bound (CockroachDB) keeps batches under it.
            var bounded = dialect.MaxRowsPerTransaction is { } max && max < limits.MaxRows ? limits with { MaxRows = (int)max } : limits;
            var applier = await PgWireChangeApplier.OpenAsync(dataSource, database.Replication!.ApplySql!(dialect), bounded, cancellationToken).ConfigureAwait(false);
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

        /// <summary>Null where the database is not a replication target.</summary>
        public Func<ITargetDialect, PgWireApplySql>? ApplySql { get; init; }
    }

    /// <summary>
    /// A MySQL-family load records the snapshot's binlog coordinates and its GTIDs apart (<see cref="Load.RecordedPosition"/>):
    /// the stream starts after both.
    /// </summary>
    private static SourcePosition MySqlLoadPosition(EndpointKind kind, LoadRun run)
    {
        var coordinates = string.IsNullOrEmpty(run.SnapshotPosition) ? null : BinlogCoordinates.Parse(run.SnapshotPosition);
        SourcePosition position = kind == EndpointKind.MariaDb
            ? MariaDbGtidList.Parse(run.GtidSet ?? string.Empty) with { Coordinates = coordinates }
            : new MySqlGtidPosition(string.IsNullOrEmpty(run.GtidSet) ? null : GtidSet.Parse(run.GtidSet), coordinates);
        return position;
    }

    /// <summary>
    /// Slot and publication parts are null for a database without them (MySQL, MariaDB): nothing to name, prepare or drop.
    /// <see cref="Open"/> takes the slot, the publication and the load's zero-date handling.
    /// </summary>
    private sealed record ChangeSourceParts(
        Func<string, string>? DefaultSlot,
        Func<string, string>? DefaultPublication,
        Func<EndpointAddress, string?, string?, ZeroDateHandling, IChangeSource> Open,
        Func<EndpointAddress, string, IReadOnlyList<TableModel>, CancellationToken, Task>? Prepare,
        Func<EndpointAddress, string, string, CancellationToken, Task<(bool Slot, bool Publication)>>? Remove,
        Func<EndpointKind, LoadRun, SourcePosition> LoadPosition);
}

/// <summary>
/// A replication's change source with its named slot and publication (null for a source without them), and what only
/// that database knows how to do: dropping them, and reading the position a load recorded.
/// </summary>
internal sealed record ReplicationSource(IChangeSource Source, string? Slot, string? Publication,
    Func<CancellationToken, Task<(bool Slot, bool Publication)>> RemoveAsync,
    Func<LoadRun, SourcePosition> LoadPosition);

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
