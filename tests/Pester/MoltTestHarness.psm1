# What the Pester tests share: the built module, real throwaway servers (tests/Molt.Testing, loaded by path) and
# child pwsh processes for what only a process of its own can show (Ctrl+C, -NonInteractive, exit codes).
Set-StrictMode -Version Latest

$script:RepositoryRoot = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path

function Get-RepositoryRoot { $script:RepositoryRoot }

# The module folder the build lays out (dotnet build Molt.sln), or $env:MOLT_MODULE_DIR.
function Get-BuiltMoltManifest {
    $folder = if ($env:MOLT_MODULE_DIR) { $env:MOLT_MODULE_DIR } else { Join-Path $script:RepositoryRoot 'out' 'Molt' }
    $manifest = Join-Path $folder 'Molt.psd1'
    if (-not (Test-Path -LiteralPath $manifest)) {
        throw "The module is not built: $manifest is missing. Run 'dotnet build Molt.sln -c Release' first."
    }
    $manifest
}

function Import-BuiltMolt {
    Import-Module (Get-BuiltMoltManifest) -Force -Global -ErrorAction Stop
}

# Molt.Testing starts real PostgreSQL and MariaDB servers from Debian's binaries; its drivers load into pwsh's
# default load context, while the module keeps its own copies in Molt's (which is itself a coexistence check).
function Initialize-TestServers {
    if ('Molt.Testing.PostgresServer' -as [type]) { return }
    $assembly = Join-Path $script:RepositoryRoot 'tests' 'Molt.Testing' 'bin' 'Release' 'net10.0' 'Molt.Testing.dll'
    if (-not (Test-Path -LiteralPath $assembly)) {
        throw "$assembly is missing. Run 'dotnet build Molt.sln -c Release' first."
    }
    Add-Type -LiteralPath $assembly
}

function Wait-Task($Task) { $Task.GetAwaiter().GetResult() }

function Start-TestPostgres {
    [CmdletBinding()]
    param([hashtable] $Settings)
    Initialize-TestServers
    $options = $null
    if ($Settings) {
        $extra = [System.Collections.Generic.Dictionary[string, string]]::new()
        foreach ($key in $Settings.Keys) { $extra[$key] = [string] $Settings[$key] }
        $options = [Molt.Testing.PostgresServerOptions]@{ ExtraSettings = $extra }
    }
    Wait-Task ([Molt.Testing.PostgresServer]::StartAsync($options, [System.Threading.CancellationToken]::None))
}

# -Settings: more server options (name to value), e.g. @{ 'binlog-row-metadata' = 'FULL' }.
function Start-TestMariaDb {
    [CmdletBinding()]
    param([hashtable] $Settings)
    Initialize-TestServers
    $options = $null
    if ($Settings) {
        $extra = [System.Collections.Generic.Dictionary[string, string]]::new()
        foreach ($key in $Settings.Keys) { $extra[$key] = [string] $Settings[$key] }
        $options = [Molt.Testing.MariaDbServerOptions]@{ ExtraSettings = $extra }
    }
    Wait-Task ([Molt.Testing.MariaDbServer]::StartAsync($options, [System.Threading.CancellationToken]::None))
}

# Runs SQL on a test server as its admin; -Database '' on MariaDB means no default database.
function Invoke-TestSql {
    param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [AllowEmptyString()] [string] $Database, [Parameter(Mandatory)] [string] $Sql)
    $null = Wait-Task ($Server.ExecuteAsync($Database, $Sql, [System.Threading.CancellationToken]::None))
}

function Get-TestScalar {
    param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [AllowEmptyString()] [string] $Database, [Parameter(Mandatory)] [string] $Sql)
    $method = $Server.GetType().GetMethod('ScalarAsync').MakeGenericMethod([object])
    Wait-Task ($method.Invoke($Server, @($Database, $Sql, [System.Threading.CancellationToken]::None)))
}

function New-TestDatabase {
    param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [string] $Name)
    $null = Wait-Task ($Server.CreateDatabaseAsync($Name, [System.Threading.CancellationToken]::None))
}

function Import-TestSakila {
    param([Parameter(Mandatory)] $Server)
    $null = Wait-Task ([Molt.Testing.SampleData]::LoadSakilaAsync($Server, [System.Threading.CancellationToken]::None))
}

function Import-TestPagila {
    param([Parameter(Mandatory)] $Server, [string] $Database = 'pagila')
    $null = Wait-Task ([Molt.Testing.SampleData]::LoadPagilaAsync($Server, $Database, [System.Threading.CancellationToken]::None))
}

function New-TestCredential {
    param([Parameter(Mandatory)] [string] $User, [Parameter(Mandatory)] [string] $Password)
    [pscredential]::new($User, (ConvertTo-SecureString -String $Password -AsPlainText -Force))
}

# The server's address without any password, as a runbook would hold it.
function Get-TestUri {
    param([Parameter(Mandatory)] $Server, [AllowEmptyString()] [string] $Database = '', [string] $User)
    $name = [uri]::EscapeDataString($(if ($User) { $User } else { $Server.AdminUser }))
    if ($Server -is [Molt.Testing.PostgresServer]) {
        $db = if ($Database) { $Database } else { 'postgres' }
        return "postgres://$name@$($Server.Host):$($Server.Port)/$([uri]::EscapeDataString($db))?sslmode=disable"
    }
    "mysql://$name@$($Server.Host):$($Server.Port)" + $(if ($Database) { '/' + [uri]::EscapeDataString($Database) } else { '' })
}

function Get-TestAdminCredential {
    param([Parameter(Mandatory)] $Server)
    New-TestCredential $Server.AdminUser $Server.AdminPassword
}

# The pwsh that runs these tests, as a command line for children: dotnet <PSHOME>/pwsh.dll.
function Get-PwshCommand {
    $dll = Join-Path $PSHOME 'pwsh.dll'
    if (Test-Path -LiteralPath $dll) { return @([Environment]::ProcessPath, $dll) }
    @((Join-Path $PSHOME 'pwsh'))
}

# How Start-MoltChild and Invoke-MoltChild start a child pwsh: -NoProfile, the module imported, stdin and stdout redirected.
function New-MoltChildStartInfo([string] $Script, [object[]] $ArgumentList, [hashtable] $Environment, [bool] $Interactive, [bool] $NoImport) {
    $pwsh = Get-PwshCommand
    $manifest = Get-BuiltMoltManifest
    $prologue = if ($NoImport) { '' } else { "Import-Module '$($manifest -replace "'", "''")' -ErrorAction Stop`n" }
    $start = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
    foreach ($part in $pwsh | Select-Object -Skip 1) { $start.ArgumentList.Add($part) }
    $start.ArgumentList.Add('-NoProfile')
    if (-not $Interactive) { $start.ArgumentList.Add('-NonInteractive') }
    # -CommandWithArgs passes each argument to the script's $args as it is, with no quoting to get wrong.
    $start.ArgumentList.Add('-CommandWithArgs')
    $start.ArgumentList.Add($prologue + $Script)
    foreach ($argument in $ArgumentList) { $start.ArgumentList.Add([string] $argument) }
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.RedirectStandardInput = $true
    $start.UseShellExecute = $false
    $start.Environment['NO_COLOR'] = '1'
    $start.Environment['TERM'] = 'dumb'
    foreach ($key in $Environment.Keys) { $start.Environment[$key] = [string] $Environment[$key] }
    $start
}

<#
Starts a script in a child pwsh as Invoke-MoltChild does and returns at once: Process (to kill by its Id while the test
watches the servers), StdOut and StdErr (tasks reading each to its end). Arguments reach the script as $args.
#>
function Start-MoltChild {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Script,
        [object[]] $ArgumentList = @(),
        [hashtable] $Environment = @{},
        [switch] $Interactive,
        [switch] $NoImport
    )
    $process = [System.Diagnostics.Process]::Start((New-MoltChildStartInfo $Script $ArgumentList $Environment $Interactive $NoImport))
    $process.StandardInput.Close()
    [pscustomobject]@{ Process = $process; StdOut = $process.StandardOutput.ReadToEndAsync(); StdErr = $process.StandardError.ReadToEndAsync() }
}

<#
Runs a script in a child pwsh (-NoProfile -NonInteractive) with the built module imported (-NoImport: not), stdin closed.
Arguments reach the script as $args. -InterruptWhen sends SIGINT (Ctrl+C) once a line of its stdout matches the
pattern, -KillWhen SIGKILL (a crash: nothing of the process runs after it); -Timeout kills it. Returns ExitCode, StdOut,
StdErr, Interrupted (by either signal) and TimedOut.
#>
function Invoke-MoltChild {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Script,
        [object[]] $ArgumentList = @(),
        [string] $InterruptWhen,
        [string] $KillWhen,
        [timespan] $Timeout = [timespan]::FromMinutes(3),
        [hashtable] $Environment = @{},
        [switch] $Interactive,
        [switch] $NoImport
    )
    $process = [System.Diagnostics.Process]::Start((New-MoltChildStartInfo $Script $ArgumentList $Environment $Interactive $NoImport))
    $process.StandardInput.Close()
    $stderr = $process.StandardError.ReadToEndAsync()
    $out = [System.Text.StringBuilder]::new()
    $interrupted = $false
    $timedOut = $false
    $deadline = [DateTime]::UtcNow + $Timeout
    $reader = $process.StandardOutput
    $pending = $reader.ReadLineAsync()
    while ($true) {
        $left = $deadline - [DateTime]::UtcNow
        if ($left -le [timespan]::Zero) { $timedOut = $true; break }
        if (-not $pending.Wait([Math]::Min(500, [int] $left.TotalMilliseconds))) { continue }
        $line = $pending.Result
        if ($null -eq $line) { break }
        [void] $out.AppendLine($line)
        if ($InterruptWhen -and -not $interrupted -and $line -match $InterruptWhen) {
            Send-Signal $process.Id INT
            $interrupted = $true
        }
        if ($KillWhen -and -not $interrupted -and $line -match $KillWhen) {
            Send-Signal $process.Id KILL
            $interrupted = $true
        }
        $pending = $reader.ReadLineAsync()
    }
    if ($timedOut) {
        $process.Kill($true)
    }
    $process.WaitForExit()
    [pscustomobject]@{
        ExitCode    = $process.ExitCode
        StdOut      = $out.ToString()
        StdErr      = $stderr.GetAwaiter().GetResult()
        Interrupted = $interrupted
        TimedOut    = $timedOut
    }
}

# INT is Ctrl+C as a terminal sends it; KILL ends the process outright, as a crash or the OOM killer would.
function Send-Signal {
    param([Parameter(Mandatory)] [int] $ProcessId, [Parameter(Mandatory)] [ValidateSet('INT', 'KILL')] [string] $Signal)
    & kill "-$Signal" $ProcessId
    if ($LASTEXITCODE -ne 0) { throw "kill -$Signal $ProcessId failed" }
}

Export-ModuleMember -Function *
