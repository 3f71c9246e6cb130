namespace Molt;

/// <summary>What Start-MoltBulkLoad does with a MySQL/MariaDB zero date ('0000-00-00', '2024-00-10').</summary>
public enum ZeroDateHandling
{
    /// <summary>Load it as NULL; a NOT NULL column that holds zero dates is refused while planning, before anything is written.</summary>
    Null,

    /// <summary>Reject the row into _molt.fetch_exceptions; its shard is not loaded and the run reports failure.</summary>
    Reject,

    /// <summary>Load it as NULL, and create the NOT NULL columns that hold zero dates nullable (with -TableHandling DropAndRecreate).</summary>
    DropNotNull,

    /// <summary>Load it as '0001-01-01' (DATE) or '0001-01-01 00:00:00' (DATETIME; TIMESTAMP in UTC).</summary>
    Sentinel,
}
