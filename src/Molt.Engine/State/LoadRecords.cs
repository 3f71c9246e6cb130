using Molt.Engine.Schema;

namespace Molt.Engine.State;

/// <summary>One load run as recorded in <c>_molt.fetch_runs</c>. Source is the endpoint without its password.</summary>
public sealed record LoadRun(string FetchId, DateTimeOffset StartedAt, string Source, string SourceKind, string Status, string? SnapshotPosition,
    string? GtidSet, string TableHandling)
{
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>What the run loads, as it started; null for a run recorded before Molt kept it.</summary>
    public LoadSelection? Selection { get; init; }
}

/// <summary>One shard of a table in a run: pending, done, failed or interrupted.</summary>
public sealed record ShardState(string SourceTable, string TargetTable, int Shard, KeyRange Range, string Status, long Rows, long Bytes, string? Error)
{
    public bool IsDone => Status == ShardStatus.Done;
}

/// <summary>A failure recorded in <c>_molt.fetch_exceptions</c>; RowKey names the rejected row when it is known.</summary>
public sealed record LoadFailureRecord(string FetchId, string? SourceTable, int? Shard, string Stage, string? SqlState, string Message, string? RowKey);

internal static class ShardStatus
{
    public const string Pending = "pending";
    public const string Done = "done";
    public const string Failed = "failed";
    public const string Interrupted = "interrupted";

    /// <summary>Recorded as running, but no session holds the run: its process died. Never stored, only reported.</summary>
    public const string Abandoned = "abandoned";
}

public static class RunStatus
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Interrupted = "interrupted";

    /// <summary>Recorded as running, but no session holds the run: its process died. Never stored, only reported.</summary>
    public const string Abandoned = "abandoned";
}

/// <summary>How far a post-load statement of a run got, in <c>_molt.fetch_post_load</c>.</summary>
internal static class PostLoadStatus
{
    public const string Started = "started";
    public const string Done = "done";
    public const string Failed = "failed";
    public const string NotTranslated = "not_translated";
}

internal static class LoadStage
{
    public const string Schema = "schema_creation";
    public const string DataLoad = "data_load";
    public const string PostLoad = "post_load";
}
