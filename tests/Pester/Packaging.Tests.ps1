# The module as users get it: a valid manifest, published to a repository with PSResourceGet, installed from there
# into a module path of its own, imported by name, and working against a real server.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    $script:manifest = Get-BuiltMoltManifest
}

Describe 'Packaging' {
    It 'has a manifest Test-ModuleManifest accepts, exporting every cmdlet the assembly defines' {
        $module = Test-ModuleManifest -Path $manifest -ErrorAction Stop
        $module.Name | Should -Be 'Molt'
        $module.Version | Should -BeGreaterThan ([version] '0.0')
        $module.PowerShellVersion | Should -Be ([version] '7.4')
        $exported = @($module.ExportedCmdlets.Keys | Sort-Object)
        $exported | Should -Contain 'Start-MoltBulkLoad'
        $defined = Invoke-MoltChild -Script '(Get-Command -Module Molt -CommandType Cmdlet).Name | Sort-Object'
        $defined.ExitCode | Should -Be 0
        @($defined.StdOut -split '\r?\n' | Where-Object { $_ }) | Should -Be $exported
    }

    It 'publishes to a folder repository, installs from it into a fresh module path and imports by name' {
        $pg = Start-TestPostgres
        try {
            $work = Join-Path ([IO.Path]::GetTempPath()) "molt-package-$PID"
            Remove-Item -Recurse -Force -LiteralPath $work -ErrorAction Ignore
            $homeFolder = New-Item -ItemType Directory -Path (Join-Path $work 'home')
            # A HOME of its own keeps the repository registration out of the user's PSResourceGet settings.
            $script = @'
$ErrorActionPreference = 'Stop'
$repository = New-Item -ItemType Directory -Path (Join-Path $args[1] 'repository')
$modules = New-Item -ItemType Directory -Path (Join-Path $args[1] 'modules')
Register-PSResourceRepository -Name MoltTest -Uri $repository.FullName -Trusted
Publish-PSResource -Path (Split-Path $args[0]) -Repository MoltTest -SkipDependenciesCheck
Save-PSResource -Name Molt -Repository MoltTest -Path $modules.FullName -TrustRepository
$env:PSModulePath = $modules.FullName
Import-Module Molt
"loaded-from=$((Get-Module Molt).ModuleBase)"
$credential = [pscredential]::new($args[3], (ConvertTo-SecureString $args[4] -AsPlainText -Force))
Test-MoltConnection -Source $args[2] -SourceCredential $credential | ForEach-Object { "check=$($_.Check);passed=$($_.Passed)" }
"metrics-shipped=$(Test-Path (Join-Path (Get-Module Molt).ModuleBase 'Dependencies' 'Prometheus.NetStandard.dll'))"
"metrics-loaded=$([bool] ([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Prometheus.NetStandard' }))"
'@
            $child = Invoke-MoltChild -NoImport -Script $script -Environment @{ HOME = $homeFolder.FullName } `
                -ArgumentList $manifest, $work, (Get-TestUri $pg), $pg.AdminUser, $pg.AdminPassword
            $child.StdErr | Should -BeNullOrEmpty
            $child.ExitCode | Should -Be 0
            $child.StdOut | Should -Match ([regex]::Escape("loaded-from=$(Join-Path $work 'modules' 'Molt')"))
            $checks = @($child.StdOut -split '\r?\n' | Where-Object { $_ -like 'check=*' })
            $checks.Count | Should -BeGreaterThan 0
            $checks | ForEach-Object { $_ | Should -Match 'passed=True' }
            # The metrics library is in the package, and loads only for a run given -MetricsListenAddress.
            $child.StdOut | Should -Match 'metrics-shipped=True'
            $child.StdOut | Should -Match 'metrics-loaded=False'
        } finally {
            $pg.Dispose()
            Remove-Item -Recurse -Force -LiteralPath $work -ErrorAction Ignore
        }
    }
}
