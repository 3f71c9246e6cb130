using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.Cockroach.Changefeed;
using Molt.Engine.Endpoints.MySql.Apply;
using Molt.Engine.Endpoints.MySql.Replication;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine.Endpoints.Postgres;
using Molt.Engine.Endpoints.Postgres.Replication;
using Molt.Engine.Replication;
using Molt.Engine.Schema;
using Molt.Engine.State;
using Npgsql;
using Serilog;

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
            (_, run) => PostgresLsn.Parse(run.SnapshotPosition!))
        {
            FailbackName = PostgresPublication.FailbackName,
            FailbackSlotCheck = PostgresFailbackSlotCheck.CheckAsync,
        },
        ApplySql = dialect => new PostgresApplySql(dialect),
        FailbackAnchor = (dataSource, position) => new PostgresFailbackAnchor(dataSource, position),
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
        FailbackApplier = OpenMySqlFailbackApplierAsync,
    };

    /// <summary>
    /// CockroachDB is replicated into, and failed back from with a sinkless changefeed: its stop anchors failback at the
    /// cluster's HLC, which is the changefeed's cursor; no slot.
    /// </summary>
    private static ReplicationParts CockroachReplication => new()
    {
        ApplySql = dialect => new CockroachApplySql(dialect),
        FailbackAnchor = (dataSource, position) => new CockroachFailbackAnchor(dataSource, position),
        FailbackSource = address => new CockroachChangefeedSource(address),
        FailbackStartCheck = ChangefeedPrerequisites.CheckCursorAsync,
    };

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
    public static async Task PrepareReplicationPublicationAsync(EndpointAddress address, string fetchId, string? publication, string slot,
        IReadOnlyList<TableModel> tables, CancellationToken cancellationToken)
    {
        if (Databases[address.Kind].Replication?.Source is { Prepare: { } prepare, DefaultPublication: { } defaultPublication })
        {
            await prepare(address, publication ?? defaultPublication(fetchId), slot, tables, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The applier and the stream control of a replication into <paramref name="address"/>; its target position anchors
    /// failback at a cutover where the database needs that (<see cref="ITargetPosition.AnchorAsync"/>).
    /// </summary>
    /// <remarks>
    /// Only a migration whose source failback can write into (<paramref name="source"/> has a failback applier) anchors it.
    /// </remarks>
    public static async Task<ReplicationTarget> OpenReplicationTargetAsync(EndpointAddress address, EndpointAddress source, Load.BulkLoadOptions options,
        ApplyBatchLimits limits, CancellationToken cancellationToken)
    {
        EnsureLoadTarget(address);
        var failsBack = Databases[source.Kind] is { LoadTarget: not null, Replication.ApplySql: not null } or { Replication.FailbackApplier: not null };
        return await OpenApplierAsync(address, options, limits, anchorsFailback: failsBack, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The applier failback writes into the migration's original source <paramref name="address"/> with, its checkpoint
    /// in the original's <c>_molt</c>: forward replication's applier for a pgwire database (its control is not used,
    /// since failback is controlled from the migration target, and its stops anchor nothing), the database's own otherwise.
    /// </summary>
    /// <param name="zeroDates">What the migration's load made of a MySQL-family original's zero dates.</param>
    /// <exception cref="MoltException"><c>FailbackTargetUnsupported</c>: no applier for that database.</exception>
    public static async Task<FailbackTarget> OpenFailbackApplierAsync(EndpointAddress address, ApplyBatchLimits limits, ZeroDateHandling zeroDates, ILogger log,
        CancellationToken cancellationToken)
    {
        var resolved = await ResolveAsync(address, cancellationToken).ConfigureAwait(false);
        var database = Databases[resolved.Kind];
        if (database.Replication?.FailbackApplier is { } open)
        {
            return await open(resolved, limits, zeroDates, log, cancellationToken).ConfigureAwait(false);
        }

        if (database.LoadTarget is null || database.Replication?.ApplySql is null)
        {
            throw new MoltException(MoltErrorKind.InvalidArgument, "FailbackTargetUnsupported",
                $"Failback into {resolved.Kind.DisplayName()} is not available: Molt has no applier for it.",
                "Fail back into a PostgreSQL, MySQL or MariaDB original source; keep the application on the migration target meanwhile.") { Target = address.Label };
        }

        var target = await OpenApplierAsync(resolved, new Load.BulkLoadOptions(), limits, anchorsFailback: false, cancellationToken).ConfigureAwait(false);
        return new FailbackTarget(target.Applier, target.Position, target.Limits, async (fetchId, forward, onTarget, _, ct) =>
        {
            var plans = FailbackPlans.Pair(fetchId, forward, onTarget, target.Dialect);
            await Load.TargetSchemaCheck.EnsureCompatibleAsync(target.DataSource, plans, ct).ConfigureAwait(false);
            return plans;
        }, target);
    }

    /// <summary>
    /// Failback into MySQL or MariaDB: the values come back into the original columns' types, which the pairing hands the
    /// applier. The tables' columns are compared with the migration target's own dialect (PostgreSQL's or CockroachDB's).
    /// </summary>
    private static async Task<FailbackTarget> OpenMySqlFailbackApplierAsync(EndpointAddress address, ApplyBatchLimits limits, ZeroDateHandling zeroDates,
        ILogger log, CancellationToken cancellationToken)
    {
        var applier = await MySqlChangeApplier.OpenAsync(address, limits, zeroDates, log, cancellationToken).ConfigureAwait(false);
        return new FailbackTarget(applier, applier, applier.Limits, async (fetchId, forward, onTarget, targetTypes, ct) =>
        {
            var plans = FailbackPlans.Pair(fetchId, forward, onTarget, targetTypes, c => new TargetType(c.Source.Type.Declared, c.Source.Type.Name, false));
            applier.UseOriginals(forward.Select(p => p.Source));
            return plans;
        }, applier);
    }

    /// <summary>
    /// The change source failback reads on the migration target <paramref name="address"/> (resolved): a database's failback
    /// source where it has one (CockroachDB: a changefeed from the recorded HLC, no slot), else its own change source, on
    /// the slot (and publication of the same name) its forward stream's cutover recorded, else its default.
    /// </summary>
    /// <exception cref="MoltException"><c>FailbackSourceUnsupported</c>: Molt cannot read that database's changes yet.</exception>
    public static async Task<ReplicationSource> OpenFailbackSourceAsync(EndpointAddress address, string fetchId, string? recordedSlot,
        CancellationToken cancellationToken)
    {
        var replication = Databases[address.Kind].Replication;
        if (replication?.FailbackSource is { } open)
        {
            return new ReplicationSource(open(address), null, null, _ => Task.FromResult((false, false)), _ => throw new MoltException(MoltErrorKind.InvalidArgument,
                "FailbackStartsAtTargetPosition", "Failback starts from the target position the cutover recorded, not from a load.",
                "Give -StartAt or the FetchId of the stopped replication."));
        }

        // Otherwise failback reads a slot on the migration target: a source without slots (the binlog) is not one failback reads yet.
        var parts = replication?.Source is { DefaultSlot: { } defaultSlot } found ? found : throw new MoltException(MoltErrorKind.InvalidArgument, "FailbackSourceUnsupported",
            $"Failback from {address.Kind.DisplayName()} is not available: Molt cannot read its changes yet.",
            "Keep the application on the migration target until Molt can fail back from it.") { Target = address.Label };
        var name = recordedSlot ?? (parts.FailbackName ?? defaultSlot)(fetchId);
        return await OpenReplicationSourceAsync(address, fetchId, name, name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The dialect of the migration target <paramref name="target"/> (its kind resolved), as a load into it plans its tables.</summary>
    public static Task<ITargetDialect> FailbackTargetDialectAsync(EndpointKind target, NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        Databases[target].LoadTarget!.Dialect(new Load.BulkLoadOptions(), dataSource, cancellationToken);

    /// <summary>The migration target's catalog, which failback pairs its tables from (PostgreSQL and CockroachDB answer the same catalog queries).</summary>
    public static ICatalogReader OpenFailbackCatalog(NpgsqlDataSource target) => new PostgresCatalogReader(target);

    /// <summary>Drops the failback slot (and its publication) a cutover left on the migration target.</summary>
    public static async Task<bool> RemoveFailbackSlotAsync(EndpointAddress target, string slot, CancellationToken cancellationToken)
    {
        var resolved = await ResolveAsync(target, cancellationToken).ConfigureAwait(false);
        return Databases[resolved.Kind].Replication?.Source is { Remove: { } remove }
            && (await remove(resolved, slot, slot, cancellationToken).ConfigureAwait(false)).Slot;
    }

    /// <summary>
    /// Test-MoltConnection -For Failback -FetchId on the migration target: <paramref name="checks"/> with the check of what the
    /// database keeps for that failback added (PostgreSQL: the slot the cutover recorded, else its default name; CockroachDB:
    /// the row versions since <paramref name="start"/>, where failback starts or resumes).
    /// </summary>
    public static async Task<IReadOnlyList<Checks.PrerequisiteCheck>> CheckFailbackSlotAsync(EndpointAddress target, string fetchId, string? recordedSlot,
        SourcePosition? start, IReadOnlyList<Checks.PrerequisiteCheck> checks, CancellationToken cancellationToken)
    {
        var resolved = await ResolveAsync(target, cancellationToken).ConfigureAwait(false);
        var replication = Databases[resolved.Kind].Replication;
        if (replication?.FailbackStartCheck is { } startCheck)
        {
            return await startCheck(resolved, start, checks, cancellationToken).ConfigureAwait(false);
        }

        return replication?.Source is { FailbackName: { } name, FailbackSlotCheck: { } check }
            ? await check(resolved, recordedSlot ?? name(fetchId), checks, cancellationToken).ConfigureAwait(false)
            : checks;
    }

    /// <summary>The stream control alone (Stop-, Get-MoltReplicationStatus): the target's <c>_molt</c> state and how its server holds claims.</summary>
    public static Task<(NpgsqlDataSource DataSource, PgWireReplicationControl Control)> OpenReplicationControlAsync(EndpointAddress address,
        CancellationToken cancellationToken) =>
        OpenReplicationControlAsync(address, ReplicationDirection.Forward, cancellationToken);

    /// <summary>The control of the stream of <paramref name="direction"/>, always in the migration target's <c>_molt</c>.</summary>
    public static async Task<(NpgsqlDataSource DataSource, PgWireReplicationControl Control)> OpenReplicationControlAsync(EndpointAddress address,
        ReplicationDirection direction, CancellationToken cancellationToken)
    {
        var (dataSource, lease) = await OpenStateAsync(address, cancellationToken).ConfigureAwait(false);
        return (dataSource, new PgWireReplicationControl(dataSource, lease, direction));
    }

    private static async Task<ReplicationTarget> OpenApplierAsync(EndpointAddress address, Load.BulkLoadOptions options, ApplyBatchLimits limits,
        bool anchorsFailback, CancellationToken cancellationToken)
    {
        var server = (await ResolveAsync(address, cancellationToken).ConfigureAwait(false)).Kind;
        var database = Databases[server];
        var dataSource = PgWireConnections.CreateDataSource(address, sessionSettings: database.LoadTarget!.SessionSettings,
            commandTimeout: PgWireChangeApplier.CommandTimeoutSeconds);
        try
        {
            var dialect = await database.LoadTarget.Dialect(options, dataSource, cancellationToken).ConfigureAwait(false);
            // A target with a per-transaction row bound (CockroachDB) keeps batches under it.
            var bounded = dialect.MaxRowsPerTransaction is { } max && max < limits.MaxRows ? limits with { MaxRows = (int)max } : limits;
            var applier = PgWireChangeApplier.Open(dataSource, database.Replication!.ApplySql!(dialect), bounded);
            var position = anchorsFailback && database.Replication.FailbackAnchor is { } anchor ? anchor(dataSource, applier) : applier;
            return new ReplicationTarget(dataSource, applier, position, new PgWireReplicationControl(dataSource, database.LoadTarget.Lease), bounded, dialect);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Creating the publication before the slot: PostgreSQL older than 18 cannot decode changes older than the publication.
    /// A slot of that name already there is refused first, so the refusal leaves no new publication behind.
    /// </summary>
    private static async Task PreparePostgresPublicationAsync(EndpointAddress address, string publication, string slot, IReadOnlyList<TableModel> tables,
        CancellationToken cancellationToken)
    {
        await using var connection = await PgWireConnections.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        await PostgresPublication.RequireNoSlotAsync(connection, slot, cancellationToken).ConfigureAwait(false);
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

        /// <summary>The applier failback writes into this database with, where it is not forward replication's (<see cref="ApplySql"/>).</summary>
        public Func<EndpointAddress, ApplyBatchLimits, ZeroDateHandling, ILogger, CancellationToken, Task<FailbackTarget>>? FailbackApplier { get; init; }

        /// <summary>What makes the target's position at a cutover readable by failback; null where the position alone is enough.</summary>
        public Func<NpgsqlDataSource, ITargetPosition, ITargetPosition>? FailbackAnchor { get; init; }

        /// <summary>The change source failback reads this database with as a migration target, where it is not <see cref="Source"/> on a slot.</summary>
        public Func<EndpointAddress, IChangeSource>? FailbackSource { get; init; }

        /// <summary>Test-MoltConnection's check that failback can start at its position (given the checks so far), for a <see cref="FailbackSource"/>.</summary>
        public Func<EndpointAddress, SourcePosition?, IReadOnlyList<Checks.PrerequisiteCheck>, CancellationToken,
            Task<IReadOnlyList<Checks.PrerequisiteCheck>>>? FailbackStartCheck { get; init; }
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
        Func<EndpointAddress, string, string, IReadOnlyList<TableModel>, CancellationToken, Task>? Prepare,
        Func<EndpointAddress, string, string, CancellationToken, Task<(bool Slot, bool Publication)>>? Remove,
        Func<EndpointKind, LoadRun, SourcePosition> LoadPosition)
    {
        /// <summary>The slot and publication failback reads when this database is the migration target (default: <see cref="DefaultSlot"/>).</summary>
        public Func<string, string>? FailbackName { get; init; }

        /// <summary>Checks the failback slot of that name on the migration target, given the checks so far.</summary>
        public Func<EndpointAddress, string, IReadOnlyList<Checks.PrerequisiteCheck>, CancellationToken, Task<IReadOnlyList<Checks.PrerequisiteCheck>>>? FailbackSlotCheck { get; init; }
    }
}

/// <summary>
/// A replication's change source with its named slot and publication (null for a source without them), and what only
/// that database knows how to do: dropping them, and reading the position a load recorded.
/// </summary>
internal sealed record ReplicationSource(IChangeSource Source, string? Slot, string? Publication,
    Func<CancellationToken, Task<(bool Slot, bool Publication)>> RemoveAsync,
    Func<LoadRun, SourcePosition> LoadPosition);

/// <summary>
/// A replication's target: its applier, the target's own position (the applier's, or what anchors failback at a cutover),
/// the stream control in its <c>_molt</c>, and the dialect its tables were planned with.
/// </summary>
internal sealed record ReplicationTarget(NpgsqlDataSource DataSource, PgWireChangeApplier Applier, ITargetPosition Position, PgWireReplicationControl Control,
    ApplyBatchLimits Limits, ITargetDialect Dialect)
    : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Applier.DisposeAsync().ConfigureAwait(false);
        await DataSource.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// Failback's applier on the original source: what the loop needs from it, and how it pairs the failback's tables
/// (<see cref="PlanAsync"/>: the forward plans and the target's tables now, with the migration target's dialect,
/// checked and reversed for this applier).
/// </summary>
internal sealed record FailbackTarget(IChangeApplier Applier, ITargetPosition Position, ApplyBatchLimits Limits,
    Func<string, IReadOnlyList<TablePlan>, IReadOnlyList<TableModel>, ITargetDialect, CancellationToken, Task<IReadOnlyList<TablePlan>>> PlanAsync,
    IAsyncDisposable Owner)
    : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Owner.DisposeAsync();
}
