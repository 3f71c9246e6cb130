namespace Molt;

/// <summary>
/// What Start-MoltBulkLoad does with a target table before loading it. (The cmdlets' public surface uses the module's
/// own types: engine types load only into Molt's load context, after PowerShell has read the cmdlet parameters.)
/// </summary>
public enum TableHandling
{
    /// <summary>The table must exist with every source column; rows are appended.</summary>
    None,

    /// <summary>Drop the table if it exists and create it from the source's definition.</summary>
    DropAndRecreate,

    /// <summary>Empty the existing table first.</summary>
    TruncateIfExists,
}
