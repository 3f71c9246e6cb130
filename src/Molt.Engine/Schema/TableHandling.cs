namespace Molt.Engine.Schema;

/// <summary>What to do with a target table before loading it.</summary>
public enum TableHandling
{
    /// <summary>The table must exist with every source column; rows are appended.</summary>
    None,

    /// <summary>Drop the table if it exists and create it from the source's definition.</summary>
    DropAndRecreate,

    /// <summary>Empty the existing table first.</summary>
    TruncateIfExists,
}
