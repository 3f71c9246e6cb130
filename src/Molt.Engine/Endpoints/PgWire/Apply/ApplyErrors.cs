using Molt.Engine.Replication;
using Npgsql;

namespace Molt.Engine.Endpoints.PgWire;

/// <summary>
/// What a failed apply statement means for the loop, as <see cref="PgWireErrorClassifier"/> classifies it: an aborted
/// transaction or a lost connection is applied again (a lost COMMIT is settled by the checkpoint it carries); anything
/// else stops the stream with the reason, the checkpoint where it was.
/// </summary>
internal static class ApplyErrors
{
    /// <summary>The exception to throw for <paramref name="error"/>, raised while doing <paramref name="what"/> (e.g. "upserting 12 rows into public.t").</summary>
    public static Exception Classify(Exception error, string what, string? table) => (PgWireErrorClassifier.Instance.Classify(error), error) switch
    {
        (ErrorAction.Retry, PostgresException pg) => new TransientApplyException($"The target aborted {what}: {pg.MessageText} (SQLSTATE {pg.SqlState}).", error),
        (ErrorAction.Retry or ErrorAction.Reconnect, _) => new TransientApplyException($"The target connection failed while {what}: {error.Message}", error),
        (_, PostgresException { SqlState: PgWireErrorClassifier.DiskFull } full) => new MoltException(MoltErrorKind.InvalidState, "TargetDiskFull",
            $"The target's disk is full: {full.MessageText} (SQLSTATE {full.SqlState}), while {what}. Nothing of the batch was committed; the checkpoint is where it was.",
            "Free space on the target (or give its tablespace more room), then resume the stream: it goes on from the checkpoint, nothing skipped.", error)
        {
            Target = table,
        },
        (_, PostgresException pg) => new MoltException(MoltErrorKind.DataRejected, "ApplyFailed",
            $"The target refused {what}: {pg.MessageText} (SQLSTATE {pg.SqlState}). Nothing of the batch was committed; the checkpoint is where it was.",
            "Make the target table accept the source's rows again (a constraint or column the source does not have, a row changed on the target), then resume.", error)
        {
            Target = table,
        },
        _ => error,
    };
}
