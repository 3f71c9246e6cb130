BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
}

Describe 'The Molt module' {
    It 'exports its cmdlets, each a compiled cmdlet with help for every parameter' {
        $commands = Get-Command -Module Molt
        $commands.Name | Should -Contain 'Test-MoltConnection'
        $commands.Name | Should -Contain 'Start-MoltBulkLoad'
        $commands | ForEach-Object { $_.CommandType | Should -Be 'Cmdlet' }
        foreach ($command in $commands) {
            $help = Get-Help $command.Name -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty -Because "$($command.Name) needs a synopsis"
            $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
            foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
                $documented = @($help.parameters.parameter | Where-Object name -EQ $parameter)
                $documented.Count | Should -Be 1 -Because "$($command.Name) -$parameter needs MAML help"
                ($documented[0].description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "$($command.Name) -$parameter needs a description"
            }
        }
    }

    It 'has help whose defaults, wildcards, pipeline input and input types are those of the code' {
        $stale = & (Join-Path (Get-RepositoryRoot) 'tools' 'Update-MoltHelp.ps1') -Check
        $stale | Should -BeNullOrEmpty -Because 'tools/Update-MoltHelp.ps1 rewrites them from the built cmdlets'
        $help = Get-Help Start-MoltBulkLoad -Parameter Table
        $help.globbing | Should -Be 'true'
        (Get-Help Start-MoltBulkLoad -Parameter TableConcurrency).defaultValue | Should -Be '4'
    }

    It 'refuses an unknown scheme with an InvalidArgument error that shows no stack trace and no password' {
        $record = $null
        try {
            Test-MoltConnection -Source 'oracle://scott:tiger@db:1521/orcl' -ErrorAction Stop
        } catch {
            $record = $_
        }
        $record | Should -Not -BeNullOrEmpty
        $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $record.FullyQualifiedErrorId | Should -BeLike 'UnknownScheme,*'
        "$record" | Should -Match 'postgres://'
        "$record" | Should -Not -Match '   at '
        ($record | Format-List * -Force | Out-String) | Should -Not -Match 'tiger'
    }
}
