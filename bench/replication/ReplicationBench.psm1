# What the replication benches share (Invoke-ReplicationBench.ps1 for PostgreSQL, Invoke-MySqlReplicationBench.ps1 for
# MariaDB): Molt in a pwsh process of its own, background workload processes, waiting, percentiles and CPU from /proc.
Set-StrictMode -Version Latest

# Get-PwshCommand, Get-BuiltMoltManifest.
Import-Module (Join-Path $PSScriptRoot '..' '..' 'tests' 'Pester' 'MoltTestHarness.psm1')

function Write-Step([string] $Text) { Write-Host ("[{0:HH:mm:ss}] {1}" -f [DateTime]::UtcNow, $Text) }

function Get-LoadAverage { ((Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3) -join ' ' }

function Wait-Until([scriptblock] $Condition, [int] $Seconds = 600, [string] $What = "$Condition") {
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for: $What" }
        Start-Sleep -Milliseconds 100
    }
}

<#
A workload tool (pgbench, sysbench) in the background; the caller waits for it with Wait-BenchProcess. Passwords go in
-Environment (or a file the tool reads), never in -Arguments, which any process on the machine can read.
#>
function Start-BenchProcess([string] $Path, [string[]] $Arguments, [hashtable] $Environment = @{}) {
    $start = [System.Diagnostics.ProcessStartInfo]::new($Path)
    foreach ($a in $Arguments) { $start.ArgumentList.Add([string] $a) }
    foreach ($key in $Environment.Keys) { $start.Environment[$key] = [string] $Environment[$key] }
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    [pscustomobject]@{ Name = [IO.Path]::GetFileName($Path); Process = $process; Out = $process.StandardOutput.ReadToEndAsync(); Err = $process.StandardError.ReadToEndAsync() }
}

function Wait-BenchProcess($Run) {
    $Run.Process.WaitForExit()
    if ($Run.Process.ExitCode -ne 0) { throw "$($Run.Name) exited with $($Run.Process.ExitCode): $($Run.Out.Result) $($Run.Err.Result)" }
    $Run.Out.Result
}

<#
Molt in a pwsh of its own, as a user runs it: Start (load, then stream) or Resume. It prints when the module was imported
(IMPORTED), a STATUS line per status and, when its stream stops, its VmHWM and CPU time, which Stop-MoltProcess reads. Credentials reach it in its environment.
#>
function Start-MoltProcess {
    param(
        [Parameter(Mandatory)] [ValidateSet('Start', 'Resume')] [string] $Verb,
        [Parameter(Mandatory)] [string] $SourceUri,
        [Parameter(Mandatory)] [pscredential] $SourceCredential,
        [Parameter(Mandatory)] [string] $TargetUri,
        [Parameter(Mandatory)] [pscredential] $TargetCredential,
        [Parameter(Mandatory)] [string] $FetchId,
        # Also write the engine's log (compact JSON lines, timestamps included) to this file: the stream's start-up milestones.
        [string] $LogPath
    )
    $script = @'
"IMPORTED $([DateTime]::UtcNow.ToString('o'))"
$sourceCredential = [pscredential]::new($env:MOLT_BENCH_SOURCE_USER, (ConvertTo-SecureString $env:MOLT_BENCH_SOURCE_PASSWORD -AsPlainText -Force))
$targetCredential = [pscredential]::new($env:MOLT_BENCH_TARGET_USER, (ConvertTo-SecureString $env:MOLT_BENCH_TARGET_PASSWORD -AsPlainText -Force))
Remove-Item Env:MOLT_BENCH_SOURCE_PASSWORD, Env:MOLT_BENCH_TARGET_PASSWORD
$common = @{ SourceCredential = $sourceCredential; TargetCredential = $targetCredential; FetchId = $args[3]; StatusInterval = '00:00:01'; WarningAction = 'SilentlyContinue' }
if ($args[4]) { $common.LogPath = $args[4] }
$run = if ($args[0] -eq 'Start') { { Start-MoltReplication $args[1] $args[2] @common -TableHandling DropAndRecreate -Confirm:$false } }
       else { { Resume-MoltReplication $args[1] $args[2] @common } }
& $run @args | ForEach-Object { if ($_ -is [Molt.ReplicationStatus]) { "STATUS $([DateTime]::UtcNow.ToString('HH:mm:ss.fff')) $($_.State) $($_.SourcePosition) $($_.Changes) $($_.LagSeconds)" } }
(Get-Content "/proc/$PID/status" | Where-Object { $_ -like 'VmHWM:*' }) -replace '\s+', ' '
"CPU $((Get-Process -Id $PID).TotalProcessorTime.TotalSeconds)"
'@
    $pwsh = Get-PwshCommand
    $start = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
    foreach ($part in $pwsh | Select-Object -Skip 1) { $start.ArgumentList.Add($part) }
    foreach ($a in @('-NoProfile', '-NonInteractive', '-CommandWithArgs', ("Import-Module '$(Get-BuiltMoltManifest)' -ErrorAction Stop`n" + $script),
            $Verb, $SourceUri, $TargetUri, $FetchId, [string] $LogPath)) { $start.ArgumentList.Add($a) }
    $start.Environment['MOLT_BENCH_SOURCE_USER'] = $SourceCredential.UserName
    $start.Environment['MOLT_BENCH_SOURCE_PASSWORD'] = $SourceCredential.GetNetworkCredential().Password
    $start.Environment['MOLT_BENCH_TARGET_USER'] = $TargetCredential.UserName
    $start.Environment['MOLT_BENCH_TARGET_PASSWORD'] = $TargetCredential.GetNetworkCredential().Password
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    [pscustomobject]@{ Process = $process; Out = $process.StandardOutput.ReadToEndAsync(); Err = $process.StandardError.ReadToEndAsync() }
}

# Throws with the process's output when Molt has ended before it was asked to.
function Assert-MoltProcessRunning($Run) {
    if ($Run.Process.HasExited) { throw "The Molt process exited with $($Run.Process.ExitCode): $($Run.Out.Result) $($Run.Err.Result)" }
}

# Stops Molt's stream as a user would and returns the process's peak RSS (bytes) and CPU time (s).
function Stop-MoltProcess {
    param([Parameter(Mandatory)] $Run, [Parameter(Mandatory)] [string] $TargetUri, [Parameter(Mandatory)] [pscredential] $TargetCredential,
        [Parameter(Mandatory)] [string] $FetchId)
    $null = Stop-MoltReplication -Target $TargetUri -TargetCredential $TargetCredential -FetchId $FetchId -WarningAction SilentlyContinue
    if (-not $Run.Process.WaitForExit(120000)) { throw 'The Molt process did not end after Stop-MoltReplication.' }
    if ($Run.Process.ExitCode -ne 0) { throw "The Molt process exited with $($Run.Process.ExitCode): $($Run.Err.Result)" }
    $hwm = [regex]::Match($Run.Out.Result, 'VmHWM: (\d+) kB')
    if (-not $hwm.Success) { throw "The Molt process did not report its peak memory: $($Run.Out.Result) $($Run.Err.Result)" }
    [pscustomobject]@{
        Peak = [long] $hwm.Groups[1].Value * 1024
        Cpu  = [double] [regex]::Match($Run.Out.Result, 'CPU ([\d.]+)').Groups[1].Value
    }
}

# utime + stime of a process, from /proc (clock ticks of 1/100 s).
function Get-CpuSeconds([int] $ProcessId) {
    $stat = Get-Content -Raw "/proc/$ProcessId/stat"
    $fields = $stat.Substring($stat.LastIndexOf(')') + 2) -split ' '
    ([long] $fields[11] + [long] $fields[12]) / 100.0
}

<#
CPU seconds of a process and all its descendants: their own time and that of their children already ended and waited
for (cutime, cstime), so a server's backends that have exited still count.
#>
function Get-ProcessTreeCpuSeconds([int] $ProcessId) {
    $children = @{}
    $ticks = @{}
    foreach ($folder in [IO.Directory]::EnumerateDirectories('/proc')) {
        $name = [IO.Path]::GetFileName($folder)
        if ($name -notmatch '^\d+$') { continue }
        # A process may end between listing and reading.
        try { $stat = [IO.File]::ReadAllText("$folder/stat") } catch { continue }
        $fields = $stat.Substring($stat.LastIndexOf(')') + 2) -split ' '
        $id = [int] $name
        $ticks[$id] = [long] $fields[11] + [long] $fields[12] + [long] $fields[13] + [long] $fields[14]
        $parent = [int] $fields[1]
        if (-not $children.ContainsKey($parent)) { $children[$parent] = [Collections.Generic.List[int]]::new() }
        $children[$parent].Add($id)
    }
    $total = 0L
    $pending = [Collections.Generic.Stack[int]]::new()
    $pending.Push($ProcessId)
    while ($pending.Count) {
        $id = $pending.Pop()
        if ($ticks.ContainsKey($id)) { $total += $ticks[$id] }
        if ($children.ContainsKey($id)) { foreach ($child in $children[$id]) { $pending.Push($child) } }
    }
    $total / 100.0
}

function Get-Percentile([double[]] $Values, [double] $P) {
    $sorted = $Values | Sort-Object
    $sorted[[Math]::Min($sorted.Count - 1, [int][Math]::Ceiling($P * $sorted.Count) - 1)]
}

# p50, p99 and max of one peer's lag samples (seconds).
function Get-LagSummary([string] $Peer, [double[]] $Values) {
    if ($Values.Count -eq 0) { throw "No lag samples for $Peer." }
    [pscustomobject]@{ Peer = $Peer; Samples = $Values.Count; P50 = Get-Percentile $Values 0.5; P99 = Get-Percentile $Values 0.99; Max = ($Values | Measure-Object -Maximum).Maximum }
}

Export-ModuleMember -Function *
