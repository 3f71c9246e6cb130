namespace Molt.Engine.State;

/// <summary>
/// A stream's checkpoint row as stored: the position's notation and text (read back with SourcePosition.Parse), the source
/// commit time of the last applied transaction, and the counts since the stream began.
/// </summary>
internal sealed record CheckpointRow(string FetchId, string Notation, string Position, DateTimeOffset SourceCommittedAt,
    long Transactions, long Inserts, long Updates, long Deletes)
{
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A stream's row: its last published state and positions, who holds it, and where it stopped.</summary>
internal sealed record StreamRow(string FetchId, string State)
{
    public string? Slot { get; init; }

    public string? HeldBy { get; init; }

    public string? SourceEndNotation { get; init; }

    public string? SourceEnd { get; init; }

    public string? StopAtNotation { get; init; }

    public string? StopAt { get; init; }

    public string? TargetPositionNotation { get; init; }

    public string? TargetPosition { get; init; }

    public long? LagBytes { get; init; }

    public double? LagSeconds { get; init; }

    public double Rate { get; init; }

    public string? Error { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The slot on this database that failback reads, left by a forward stream's cutover stop.</summary>
    public string? FailbackSlot { get; init; }
}

/// <summary>A pending stop request: immediately, at a position, or (neither) at the source's end when the stream reads it.</summary>
internal sealed record StopRow(string FetchId, bool Immediately, string? Notation, string? Position, DateTimeOffset RequestedAt);
