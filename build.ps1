<#
.SYNOPSIS
    Builds, tests, demonstrates and packages the Molt module.
.DESCRIPTION
    Build lays out an importable module in out/Molt. Test runs the xunit projects (engine, hosted PowerShell) and the
    Pester tests (tests/Pester, real pwsh processes) against throwaway real PostgreSQL and MariaDB servers, and ends with
    one "N passed, N failed, N skipped" line. Demo migrates the Sakila sample from MariaDB into PostgreSQL with the
    module, in this pwsh. Package publishes the module to a folder repository, out/repository, with PSResourceGet.

    Test and Demo first install what they need: PostgreSQL 15 and MariaDB from Debian's packages when they are
    missing and this runs as root; otherwise they say what to install.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
.EXAMPLE
    ./build.ps1 -Task Build, Demo
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Package')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Set-Location -LiteralPath $PSScriptRoot

function Invoke-Native([string] $Command, [string[]] $Arguments) {
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

# The servers the tests and the demo start (tests/Molt.Testing) are Debian's binaries, run from temp folders.
function Install-Prerequisites {
    $missing = @()
    if (-not (Test-Path /usr/lib/postgresql/15/bin/postgres)) { $missing += 'postgresql' }
    if (-not (Test-Path /usr/sbin/mariadbd)) { $missing += 'mariadb-server' }
    if (-not (Get-Command setpriv -ErrorAction Ignore)) { $missing += 'util-linux' }
    # PostGIS: the spatial tests create the extension in databases of their own.
    if (-not (Test-Path /usr/share/postgresql/15/extension/postgis.control)) { $missing += 'postgresql-15-postgis-3' }
    if ($missing.Count -eq 0) { return }
    $root = (& id -u) -eq '0'
    if (-not $root -or -not (Get-Command apt-get -ErrorAction Ignore)) {
        throw "Molt's tests and demo need PostgreSQL 15 (with PostGIS) and MariaDB server binaries. Install them first, e.g. 'sudo apt-get install -y $($missing -join ' ')' on Debian 12."
    }
    Write-Host "Installing $($missing -join ', ') from Debian's packages..."
    Invoke-Native apt-get @('update', '-qq')
    $env:DEBIAN_FRONTEND = 'noninteractive'
    Invoke-Native apt-get (@('install', '-y', '-qq') + $missing)
}

function Invoke-Build {
    Invoke-Native dotnet @('build', 'Molt.sln', '-c', $Configuration, '-nologo', '-v', 'minimal')
}

function Invoke-Tests {
    Install-Prerequisites
    Invoke-Build
    Invoke-Native dotnet @('restore', 'tests/Pester/Pester.Restore.csproj', '-nologo', '-v', 'quiet')
    $passed = 0; $failed = 0; $skipped = 0; $reported = 0

    $xunit = @()
    & dotnet test Molt.sln -c $Configuration --no-build -nologo 2>&1 | Tee-Object -Variable xunit | Out-Host
    $xunitExit = $LASTEXITCODE
    # Each test project prints: "Passed!  - Failed:     0, Passed:    34, Skipped:     0, Total:    34, ..."
    foreach ($line in $xunit) {
        if ("$line" -match '^(Passed|Failed)! +- Failed: +(\d+), Passed: +(\d+), Skipped: +(\d+)') {
            $failed += [int] $Matches[2]; $passed += [int] $Matches[3]; $skipped += [int] $Matches[4]; $reported++
        }
    }
    if ($xunitExit -ne 0 -and $reported -eq 0) { $failed++ }

    # Pester runs in a pwsh of its own, so its servers and imported modules end with it.
    $pester = @()
    & ([Environment]::ProcessPath) (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File tests/Pester/Invoke-MoltPester.ps1 2>&1 |
        Tee-Object -Variable pester | Out-Host
    $pesterExit = $LASTEXITCODE
    $tally = $pester | Where-Object { "$_" -like 'pester-result *' } | Select-Object -Last 1
    if ($tally -and "$tally" -match '^pester-result passed=(\d+) failed=(\d+) skipped=(\d+)$') {
        $passed += [int] $Matches[1]; $failed += [int] $Matches[2]; $skipped += [int] $Matches[3]; $reported++
    } elseif ($pesterExit -ne 0) {
        $failed++
    }

    "tests: $passed passed, $failed failed, $skipped skipped"
    if ($reported -lt 2) { throw 'Not every test runner reported results (xunit and Pester both must).' }
    if ($xunitExit -ne 0 -or $pesterExit -ne 0 -or $failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Install-Prerequisites
    Invoke-Build
    & ([Environment]::ProcessPath) (Join-Path $PSHOME 'pwsh.dll') -NoProfile -File tools/demo.ps1
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

# A folder repository stands in for a gallery: what is published there installs and imports like any module.
function Invoke-Package {
    Invoke-Build
    $repository = Join-Path $PSScriptRoot 'out' 'repository'
    New-Item -ItemType Directory -Force -Path $repository | Out-Null
    $name = "MoltBuild$PID"
    Register-PSResourceRepository -Name $name -Uri $repository -Trusted
    try {
        Publish-PSResource -Path (Join-Path $PSScriptRoot 'out' 'Molt') -Repository $name -SkipDependenciesCheck
    } finally {
        Unregister-PSResourceRepository -Name $name
    }
    Get-ChildItem -LiteralPath $repository -Filter 'Molt.*.nupkg' | Select-Object -ExpandProperty FullName
}

foreach ($step in $Task) {
    switch ($step) {
        'Build' { Invoke-Build }
        'Test' { Invoke-Tests }
        'Demo' { Invoke-Demo }
        'Package' { Invoke-Package }
    }
}
