using Molt.Engine.Checks;
using Molt.Engine.Endpoints;
using Molt.Engine.Load;
using Molt.Engine.State;

namespace Molt;

/// <summary>
/// The one place where the engine's results become the module's output objects. Endpoints are shown by their display
/// form, without the password; rates are rounded to whole rows per second.
/// </summary>
internal static class EngineOutput
{
    public static BulkLoadTableResult ToOutput(Engine.Load.TableLoadResult result, string? where, EndpointAddress source, EndpointAddress target) => new()
    {
        FetchId = result.FetchId,
        Table = result.Table.ToString(),
        TargetTable = result.TargetTable.ToString(),
        Rows = result.Rows,
        Bytes = result.Bytes,
        Duration = result.Duration,
        RowsPerSecond = Math.Round(result.RowsPerSecond),
        Status = EnumMappings.TableStatus.ToModule(result.Status),
        Error = result.Error,
        Shards = result.Shards,
        PrimaryKey = result.PrimaryKey?.Reason,
        Where = where,
        Source = source.Display,
        Target = target.Display,
    };

    public static BulkLoadSummary ToOutput(Engine.Load.BulkLoadSummary summary, string? replicationSlot, EndpointAddress source, EndpointAddress target) => new()
    {
        FetchId = summary.FetchId,
        Status = EnumMappings.RunStatus.ToModule(summary.Status),
        SnapshotPosition = summary.SnapshotPosition is { } position ? RecordedPosition.Of(position).Value : null,
        GtidSet = summary.SnapshotPosition is { } gtids ? RecordedPosition.Of(gtids).GtidSet : null,
        Tables = summary.Tables,
        Rows = summary.Rows,
        Bytes = summary.Bytes,
        Duration = summary.Duration,
        RowsPerSecond = Math.Round(summary.RowsPerSecond),
        FailedTables = summary.FailedTables.Select(t => t.ToString()).ToArray(),
        PendingTables = summary.PendingTables.Select(t => t.ToString()).ToArray(),
        Phases = summary.Phases.Select(p => new LoadPhaseTime { Name = p.Name, Duration = p.Duration, Count = p.Count }).ToArray(),
        NotCarried = summary.NotCarried.Select(f => new SchemaFactNotCarried { Table = f.Table.ToString(), Column = f.Column, What = f.What, Why = f.Why }).ToArray(),
        ReplicationSlot = replicationSlot,
        Source = source.Display,
        Target = target.Display,
    };

    public static FetchRunStatus ToOutput(FetchRunReport report, EndpointAddress target) => new()
    {
        FetchId = report.Run.FetchId,
        Status = EnumMappings.RunStatus.ToModule(report.Run.Status),
        Started = report.Run.StartedAt,
        Finished = report.Run.FinishedAt,
        Source = report.Run.Source,
        SourceKind = report.Run.SourceKind,
        SnapshotPosition = report.Run.SnapshotPosition,
        TableHandling = report.Run.TableHandling,
        Tables = report.Tables.Count,
        ShardsDone = report.Shards.Count(s => s.IsDone),
        ShardsTotal = report.Shards.Count,
        Rows = report.Shards.Sum(s => s.Rows),
        FailedTables = [.. report.FailedTables],
        PendingTables = [.. report.PendingTables],
        Exceptions = report.Exceptions.Select(ToOutput).ToArray(),
        Target = target.Display,
    };

    public static TableComparison ToOutput(Engine.Verify.TableComparison comparison, EndpointAddress source, EndpointAddress target) => new()
    {
        Table = comparison.Table.ToString(),
        TargetTable = comparison.TargetTable.ToString(),
        SourceRows = comparison.SourceRows,
        TargetRows = comparison.TargetRows,
        Missing = comparison.Missing,
        Extra = comparison.Extra,
        Mismatched = comparison.Mismatched,
        Status = EnumMappings.ComparisonStatus.ToModule(comparison.Status),
        Duration = comparison.Duration,
        Note = comparison.Note,
        Source = source.Display,
        Target = target.Display,
    };

    public static RowDifference ToOutput(Engine.Verify.RowDifference difference) => new()
    {
        Table = difference.Table.ToString(),
        Key = difference.Key,
        Kind = difference.Kind,
        Columns = difference.Columns.ToArray(),
        SourceValues = difference.SourceValues.ToArray(),
        TargetValues = difference.TargetValues.ToArray(),
    };

    public static ConnectionCheck ToOutput(PrerequisiteCheck check, ServerInfo server, MigrationFlow flow) => new()
    {
        Role = check.Role.ToString(),
        Endpoint = check.Endpoint,
        Server = server.Kind.DisplayName(),
        Version = server.Version,
        Flow = flow.ToString(),
        Check = check.Check,
        Passed = check.Passed,
        Warning = check.IsWarning,
        Detail = check.Detail,
        Remedy = check.Remedy,
    };

    /// <param name="source">The source when this session knows it (Get-MoltReplicationStatus reads the target only).</param>
    public static ReplicationStatus ToOutput(Engine.Replication.ReplicationStatus status, EndpointAddress? source, EndpointAddress target) => new()
    {
        FetchId = status.FetchId,
        Direction = EnumMappings.ReplicationDirection.ToModule(status.Direction.ToString()),
        State = EnumMappings.ReplicationState.ToModule(status.State.ToString()),
        At = status.At,
        SourcePosition = status.SourcePosition?.ToString(),
        SourceEnd = status.SourceEnd?.ToString(),
        LagBytes = status.LagBytes,
        LagSeconds = status.LagSeconds is { } lag ? Math.Round(lag, 1) : null,
        Transactions = status.Transactions,
        Changes = status.Changes,
        Inserts = status.Inserts,
        Updates = status.Updates,
        Deletes = status.Deletes,
        Rate = Math.Round(status.Rate),
        LastCommitAt = status.LastCommitAt,
        Checkpoint = status.Checkpoint is { } checkpoint ? ToOutput(checkpoint) : null,
        StopAt = status.StopAt?.ToString(),
        TargetPosition = status.TargetPosition?.ToString(),
        HeldBy = status.HeldBy,
        Slot = status.Slot,
        FailbackSlot = status.FailbackSlot,
        Error = status.Error,
        Note = SlotNotes(status) is [_, ..] notes ? string.Join(" ", notes) : null,
        Source = source?.Display,
        Target = target.Display,
    };

    /// <summary>What a slot left on the source costs, and how to end it.</summary>
    public static string SlotNote(string slot, string fetchId) =>
        $"The replication slot '{slot}' on the source keeps its WAL until Remove-MoltReplication -FetchId '{fetchId}' drops it.";

    /// <summary>What the failback slot left on the target costs, and how to end it.</summary>
    public static string FailbackSlotNote(string slot, string fetchId) =>
        $"The failback slot '{slot}' on the target keeps its WAL until Remove-MoltReplication -FetchId '{fetchId}' drops it.";

    /// <summary>Every slot a stream's status leaves, said as what it costs: the source's, and the target's failback slot.</summary>
    public static IReadOnlyList<string> SlotNotes(Engine.Replication.ReplicationStatus status)
    {
        var failback = status.Direction == Engine.Replication.ReplicationDirection.Failback;
        var notes = new List<string>();
        if (status.Slot is { } slot)
        {
            notes.Add(failback ? FailbackSlotNote(slot, status.FetchId) : SlotNote(slot, status.FetchId));
        }

        if (!failback && status.FailbackSlot is { } failbackSlot)
        {
            notes.Add(FailbackSlotNote(failbackSlot, status.FetchId));
        }

        return notes;
    }

    private static ReplicationCheckpoint ToOutput(Engine.Replication.ReplicationCheckpoint checkpoint) => new()
    {
        Position = checkpoint.Position.ToString(),
        SourceCommittedAt = checkpoint.SourceCommittedAt,
        Transactions = checkpoint.Transactions,
        Inserts = checkpoint.Inserts,
        Updates = checkpoint.Updates,
        Deletes = checkpoint.Deletes,
    };

    private static LoadFailure ToOutput(LoadFailureRecord exception) => new()
    {
        Table = exception.SourceTable,
        Shard = exception.Shard,
        Stage = exception.Stage,
        SqlState = exception.SqlState,
        Message = exception.Message,
        RowKey = exception.RowKey,
    };
}
