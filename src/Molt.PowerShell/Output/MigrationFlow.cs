namespace Molt;

/// <summary>The migration flows whose prerequisites <c>Test-MoltConnection -For</c> checks.</summary>
public enum MigrationFlow
{
    BulkLoad,
    Replication,
    Failback,
}
