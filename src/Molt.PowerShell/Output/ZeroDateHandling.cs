namespace Molt;

/// <summary>What Start-MoltBulkLoad does with a MySQL/MariaDB zero date ('0000-00-00', '2024-00-10').</summary>
public enum ZeroDateHandling
{
    /// <summary>Load it as NULL.</summary>
    Null,

    /// <summary>Reject the row into _molt.fetch_exceptions; its shard is not loaded and the run reports failure.</summary>
    Reject,
}
