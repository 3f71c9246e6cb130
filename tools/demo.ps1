<#
.SYNOPSIS
    A real migration with Molt, in this pwsh: the Sakila sample from a throwaway MariaDB into a throwaway PostgreSQL.
.DESCRIPTION
    Starts both servers from Debian's binaries in temp folders (tests/Molt.Testing), loads Sakila from the
    repository's data/ folder, then runs what a user would type: check the connections, load, compare, show the
    run's status. Output is PowerShell's default formatting of Molt's objects. Passwords travel as PSCredentials
    and appear nowhere. Exits 1 when the load or the comparison did not succeed. Run it with ./build.ps1 -Task Demo.
#>
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = Split-Path -Parent $PSScriptRoot
Import-Module (Join-Path $root 'tests' 'Pester' 'MoltTestHarness.psm1')
Import-BuiltMolt

function Show-Command([string] $Text) { Write-Host "`nPS> $Text" -ForegroundColor Cyan }

$clock = [Diagnostics.Stopwatch]::StartNew()
Write-Host 'Starting throwaway MariaDB 10.11 (source) and PostgreSQL 15 (target) servers...'
$mariaDb = Start-TestMariaDb
$postgres = Start-TestPostgres
try {
    Write-Host 'Loading the Sakila sample into MariaDB...'
    Import-TestSakila $mariaDb
    New-TestDatabase $postgres sakila
    Write-Host ('Servers ready in {0:F1} s.' -f $clock.Elapsed.TotalSeconds)

    $source = Get-TestUri $mariaDb sakila
    $target = Get-TestUri $postgres sakila
    $s = Get-TestAdminCredential $mariaDb
    $t = Get-TestAdminCredential $postgres
    Write-Host "`n`$source = '$source'`n`$target = '$target'"

    Show-Command 'Test-MoltConnection -Source $source -SourceCredential $s -Target $target -TargetCredential $t -For Replication'
    Test-MoltConnection -Source $source -SourceCredential $s -Target $target -TargetCredential $t -For Replication | Out-Host

    Show-Command '$load = Start-MoltBulkLoad $source $target -SourceCredential $s -TargetCredential $t -TableHandling DropAndRecreate -Confirm:$false'
    $load = Start-MoltBulkLoad $source $target -SourceCredential $s -TargetCredential $t -TableHandling DropAndRecreate -Confirm:$false
    $load | Out-Host

    Show-Command '$load | Where-Object Table | Compare-MoltData -SourceCredential $s -TargetCredential $t'
    $comparison = $load | Where-Object { $_.PSObject.Properties['Table'] } | Compare-MoltData -SourceCredential $s -TargetCredential $t
    $comparison | Out-Host

    Show-Command 'Get-MoltFetchStatus -Target $target -TargetCredential $t'
    Get-MoltFetchStatus -Target $target -TargetCredential $t | Out-Host

    $summary = @($load | Where-Object { $_ -is [Molt.BulkLoadSummary] })
    $succeeded = $summary.Count -eq 1 -and "$($summary[0].Status)" -eq 'succeeded' -and
        @($comparison).Count -gt 0 -and -not ($comparison | Where-Object Status -NE 'Equal')
    Write-Host ('Demo {0} in {1:F1} s; the throwaway servers are being stopped.' -f $(if ($succeeded) { 'finished' } else { 'FAILED' }), $clock.Elapsed.TotalSeconds)
} finally {
    $mariaDb.Dispose()
    $postgres.Dispose()
}
if (-not $succeeded) { exit 1 }
