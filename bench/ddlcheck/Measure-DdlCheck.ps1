<#
.SYNOPSIS
    What the DDL check before a load costs on Sakila (MariaDB 10.11 into PostgreSQL 15): the check's own time, from
    its -Verbose line, beside the whole load's Duration, for each of -Runs loads with -TableHandling DropAndRecreate.
.DESCRIPTION
    Starts throwaway servers as the demo does (tests/Molt.Testing), imports Sakila, then loads it -Runs times into the
    same target database (each load drops and recreates the tables). Build first: dotnet pwsh ./build.ps1 -Task Build.
    Run: dotnet pwsh -NoProfile bench/ddlcheck/Measure-DdlCheck.ps1 -Runs 5
#>
param([int] $Runs = 5)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
Import-Module (Join-Path $root 'tests' 'Pester' 'MoltTestHarness.psm1')
Import-BuiltMolt

$mariaDb = Start-TestMariaDb
$postgres = Start-TestPostgres
try {
    Import-TestSakila $mariaDb
    New-TestDatabase $postgres sakila
    $source = Get-TestUri $mariaDb sakila
    $target = Get-TestUri $postgres sakila
    $s = Get-TestAdminCredential $mariaDb
    $t = Get-TestAdminCredential $postgres
    foreach ($run in 1..$Runs) {
        $load = Start-MoltBulkLoad $source $target -SourceCredential $s -TargetCredential $t -TableHandling DropAndRecreate -Confirm:$false -Verbose 4>&1
        $summary = @($load | Where-Object { $_ -is [Molt.BulkLoadSummary] })[0]
        $verbose = @($load | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | Where-Object Message -Match "Checked the plan's")[0].Message
        $null = $verbose -match "Checked the plan's (\d+) DDL statements .*: (\d+) refused, (\d+) ms"
        '{0}: {1} statements checked in {2} ms ({3} refused); load {4} in {5:F2} s, {6} rows; load average {7}' -f $run, $Matches[1], $Matches[3], $Matches[2],
            $summary.Status, $summary.Duration.TotalSeconds, $summary.Rows, (((Get-Content /proc/loadavg) -split ' ')[0..2] -join ' ')
    }
} finally {
    $mariaDb.Dispose()
    $postgres.Dispose()
}
