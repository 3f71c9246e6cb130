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

<#
The kill tests' shared parts: a user's command run in a child pwsh as a runbook would (Start-MoltRunbookChild), waits
that give up with the child's output once it has ended (Wait-Until), a SIGKILL that must find the child running
(Stop-MoltChildHard), a SIGKILL a syscall after a condition turns true, for windows of well under a millisecond
(Stop-MoltChildWhen), the end of a child left to finish (Complete-MoltChild), and pgbench as the admin (Start-TestPgbench).
#>

# -Child: the wait ends, with the child's output, if the child ends first; -Diagnose: text added to the timeout's error.
function Wait-Until {
    param([Parameter(Mandatory, Position = 0)] [scriptblock] $Condition, [int] $Seconds = 90, [string] $What = $Condition, $Child, [scriptblock] $Diagnose,
        [int] $PollMilliseconds = 20)
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while (-not (& $Condition)) {
        if ($Child -and $Child.Process.HasExited) { throw "The child ended ($($Child.Process.ExitCode)) before $What`: $($Child.StdOut.Result) $($Child.StdErr.Result)" }
        if ([DateTime]::UtcNow -gt $deadline) {
            $detail = if ($Diagnose) { "`n" + (& $Diagnose) } else { '' }
            throw "Timed out after $Seconds s waiting for: $What$detail"
        }
        Start-Sleep -Milliseconds $PollMilliseconds
    }
}

<#
Starts a user's command in a child pwsh as Start-MoltChild does, with $ErrorActionPreference = 'Stop', $credential
(-User with -Password, which reaches the child in its environment, never on its command line) and $common (both
credentials, -LogPath, warnings silenced); the command sees -Source as $args[0], -Target as $args[1] and its log's path
as $args[2], which is added to -Logs.
#>
function Start-MoltRunbookChild {
    param([Parameter(Mandatory)] [string] $Command, [Parameter(Mandatory)] [string] $User, [Parameter(Mandatory)] [string] $Password,
        [Parameter(Mandatory)] [string] $Source, [Parameter(Mandatory)] [string] $Target,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [System.Collections.Generic.List[string]] $Logs)
    $log = Join-Path ([IO.Path]::GetTempPath()) "molt-$User-$PID-$($Logs.Count).log"
    $Logs.Add($log)
    $prologue = @'
$ErrorActionPreference = 'Stop'
$credential = [pscredential]::new($env:MOLT_TEST_USER, (ConvertTo-SecureString $env:MOLT_TEST_SECRET -AsPlainText -Force))
$common = @{ SourceCredential = $credential; TargetCredential = $credential; LogPath = $args[2]; WarningAction = 'SilentlyContinue' }
'@
    Start-MoltChild -Script ($prologue + "`n" + $Command) -ArgumentList $Source, $Target, $log -Environment @{ MOLT_TEST_USER = $User; MOLT_TEST_SECRET = $Password }
}

# SIGKILL to a child that must still be running (exit code 137); its output goes to -Outputs, for the password check.
function Stop-MoltChildHard {
    param([Parameter(Mandatory)] $Child, [Parameter(Mandatory)] [AllowEmptyCollection()] [AllowEmptyString()] [System.Collections.Generic.List[string]] $Outputs)
    & kill -KILL $Child.Process.Id
    $Child.Process.WaitForExit()
    $Child.Process.ExitCode | Should -Be 137 -Because "the child must have been running until killed: $($Child.StdErr.Result)"
    $Outputs.Add($Child.StdOut.Result + $Child.StdErr.Result)
}

<#
Polls -Condition without pausing for up to -Seconds and kills the child the moment it holds (or when the time is up),
as a syscall of this process rather than a kill command: for windows of well under a millisecond, such as between a
checkpoint's commit and the slot's confirm. Returns whether the condition was seen.
#>
function Stop-MoltChildWhen {
    param([Parameter(Mandatory)] $Child, [Parameter(Mandatory)] [scriptblock] $Condition, [int] $Seconds = 8,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [AllowEmptyString()] [System.Collections.Generic.List[string]] $Outputs)
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    $seen = $false
    while ([DateTime]::UtcNow -lt $deadline -and -not ($seen = [bool] (& $Condition))) { }
    $Child.Process.Kill()
    $Child.Process.WaitForExit()
    $Child.Process.ExitCode | Should -Be 137
    $Outputs.Add($Child.StdOut.Result + $Child.StdErr.Result)
    $seen
}

# Waits for a child to end by itself (killed, with an error, after -Seconds); its output goes to -Outputs too.
function Complete-MoltChild {
    param([Parameter(Mandatory)] $Child, [int] $Seconds = 60, [Parameter(Mandatory)] [AllowEmptyCollection()] [AllowEmptyString()] [System.Collections.Generic.List[string]] $Outputs)
    if (-not $Child.Process.WaitForExit($Seconds * 1000)) { $Child.Process.Kill(); throw "the child did not end within $Seconds s" }
    $Outputs.Add($Child.StdOut.Result + $Child.StdErr.Result)
    [pscustomobject]@{ ExitCode = $Child.Process.ExitCode; StdOut = $Child.StdOut.Result; StdErr = $Child.StdErr.Result }
}

# pgbench as the server's admin; the password goes in the environment, never on a command line. Returns Process, StdOut, StdErr.
function Start-TestPgbench {
    param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [string] $Database, [Parameter(Mandatory)] [string[]] $Arguments)
    $start = [System.Diagnostics.ProcessStartInfo]::new('/usr/lib/postgresql/15/bin/pgbench')
    foreach ($argument in @('-h', $Server.Host, '-p', $Server.Port, '-U', $Server.AdminUser) + $Arguments + $Database) { $start.ArgumentList.Add([string] $argument) }
    $start.Environment['PGPASSWORD'] = $Server.AdminPassword
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    [pscustomobject]@{ Process = $process; StdOut = $process.StandardOutput.ReadToEndAsync(); StdErr = $process.StandardError.ReadToEndAsync() }
}

Export-ModuleMember -Function *
