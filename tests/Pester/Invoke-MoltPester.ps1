<#
.SYNOPSIS
    Runs the Pester tests of Molt's PowerShell surface against the built module (out/Molt) and real servers.
.DESCRIPTION
    Imports Pester 5.7.1 by path from out/packages (restored from NuGet by tests/Pester/Pester.Restore.csproj) and runs
    every *.Tests.ps1 under tests/Pester, or the files given. Ends with a "pester-result passed=N failed=N skipped=N"
    line for build.ps1 -Task Test to add up, and exits 1 when anything failed or no test ran.
#>
[CmdletBinding()]
param(
    [string[]] $Path = @($PSScriptRoot),
    [string] $FullNameFilter,
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Output = 'Detailed'
)

$ErrorActionPreference = 'Stop'
$root = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
$pester = Join-Path $root 'out' 'packages' 'pester' '5.7.1' 'tools' 'Pester.psd1'
if (-not (Test-Path -LiteralPath $pester)) {
    & dotnet restore (Join-Path $PSScriptRoot 'Pester.Restore.csproj') -nologo -v quiet
    if ($LASTEXITCODE -ne 0) { throw "Restoring Pester 5.7.1 from NuGet failed (dotnet restore tests/Pester/Pester.Restore.csproj)." }
}
Import-Module $pester -RequiredVersion 5.7.1 -Force

$configuration = New-PesterConfiguration
$configuration.Run.Path = $Path
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = $Output
$configuration.Output.RenderMode = 'Plaintext'
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputPath = Join-Path $root 'out' 'TestResults' 'pester.xml'
if ($FullNameFilter) { $configuration.Filter.FullName = $FullNameFilter }
$result = Invoke-Pester -Configuration $configuration

"pester-result passed=$($result.PassedCount) failed=$($result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount) skipped=$($result.SkippedCount)"
if ($result.Result -ne 'Passed' -or $result.PassedCount -eq 0) { exit 1 }
