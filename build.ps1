<#
.SYNOPSIS
    Builds, tests and packages the Molt module.
.DESCRIPTION
    Build lays out an importable module in out/Molt. Test runs every test project against throwaway real
    PostgreSQL and MariaDB servers (Debian's binaries). Package writes out/Molt-<version>.tar.gz.
    Every task is a plain dotnet or tar command, so the same steps run from bash: see README.md.
.EXAMPLE
    ./build.ps1 -Task Build, Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-Location -LiteralPath $PSScriptRoot

function Invoke-Native([string] $Command, [string[]] $Arguments) {
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

foreach ($step in $Task) {
    switch ($step) {
        'Build' { Invoke-Native dotnet @('build', 'Molt.sln', '-c', $Configuration, '-nologo') }
        'Test' { Invoke-Native bash @('tools/test.sh') }
        'Package' {
            Invoke-Native dotnet @('build', 'src/Molt.PowerShell', '-c', $Configuration, '-nologo')
            Invoke-Native bash @('tools/package.sh')
        }
    }
}
