@{
    RootModule           = 'Molt.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '6d7f2c1e-3a4b-4f59-9a0e-51c3b7d2e8a4'
    Author               = 'Molt developers'
    Description          = 'Moves a PostgreSQL or MySQL/MariaDB database into CockroachDB with minimal downtime, and back again.'
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('Molt.Connection.format.ps1xml', 'Molt.Load.format.ps1xml', 'Molt.Verify.format.ps1xml', 'Molt.Replication.format.ps1xml')
    CmdletsToExport      = @('Test-MoltConnection', 'Start-MoltBulkLoad', 'Get-MoltFetchStatus', 'Compare-MoltData',
                            'Start-MoltReplication', 'Resume-MoltReplication', 'Stop-MoltReplication', 'Get-MoltReplicationStatus',
                            'Remove-MoltReplication', 'Invoke-MoltFailback')
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('CockroachDB', 'PostgreSQL', 'MySQL', 'MariaDB', 'Migration', 'Replication')
        }
    }
}
