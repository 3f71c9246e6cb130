<#
.SYNOPSIS
PostgreSQL -> PostgreSQL change replication: Molt beside PostgreSQL's own logical replication, in the same run (issue 12).

.DESCRIPTION
Starts three throwaway PostgreSQL 15 servers (tests/Molt.Testing): a source under pgbench tpcb-like (pgbench_history
given a primary key), a target for Molt and a target for a native subscription (CREATE PUBLICATION / CREATE
SUBSCRIPTION, schema copied with pg_dump -s, rows by the subscription's own initial copy). Molt runs as a user runs it,
Start-MoltReplication / Resume-MoltReplication in a pwsh process of its own, so the peak RSS it reports (VmHWM) is its own.

(b) steady: pgbench at a fixed -R rate for a fixed time with both streams running; lag sampled every 200 ms on both
    targets with the same probe: a heartbeat row the source updates 20 times a second (its clock_timestamp()), read on
    each target as clock_timestamp() - at. The probe's floor is the heartbeat interval (0-50 ms).
(a) catch-up, once per backlog size: both stopped (Stop-MoltReplication; ALTER SUBSCRIPTION ... DISABLE), the backlog
    written with pgbench -t, the source's WAL insert position L read and one marker transaction committed after it;
    then each started alone in turn (the order alternates between rounds) and timed until it has applied past L
    (Molt: the checkpoint's SourcePosition, what Get-MoltReplicationStatus reports; native: the subscription's
    replication origin, pg_replication_origin_status.remote_lsn; both are the end of the last applied commit).
(c) Molt's peak RSS (VmHWM) of each catch-up process, for the two backlog sizes.
At the end both targets are compared with the source (counts, balance sums, digests).

Build first: dotnet tool restore; dotnet pwsh -NoProfile ./build.ps1 -Task Build (the module in out/Molt, and
tests/Molt.Testing in Release).

.EXAMPLE
dotnet pwsh -NoProfile bench/replication/Invoke-ReplicationBench.ps1 -Scale 10 -Backlogs 20000,80000 -Rate 200 -SteadySeconds 60
#>
[CmdletBinding()]
param(
    # pgbench scale: 100,000 accounts per unit.
    [int] $Scale = 10,
    # pgbench transactions of each catch-up backlog, comma-separated (a command line from a shell passes one string);
    # each transaction writes 4 rows (3 updates, 1 insert).
    [string] $Backlogs = '20000,80000',
    [int] $Clients = 4,
    # Steady phase: pgbench transactions per second, and for how long.
    [int] $Rate = 200,
    [int] $SteadySeconds = 60
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$root = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
Import-Module (Join-Path $root 'tests' 'Pester' 'MoltTestHarness.psm1') -Force
Import-BuiltMolt
Import-Module (Join-Path $PSScriptRoot 'ReplicationBench.psm1') -Force

$bin = '/usr/lib/postgresql/15/bin'
$fetchId = 'bench'
$changesPerTransaction = 4

function Invoke-Pg([string] $Tool, $Server, [string] $Database, [string[]] $Arguments) {
    # The password goes in the environment, never on a command line.
    $env:PGPASSWORD = $Server.AdminPassword
    try {
        $output = & (Join-Path $bin $Tool) -h $Server.Host -p $Server.Port -U $Server.AdminUser @Arguments $Database 2>&1
        if ($LASTEXITCODE -ne 0) { throw "$Tool exited with $LASTEXITCODE`: $output" }
        $output
    }
    finally { Remove-Item Env:PGPASSWORD }
}

# A pgbench run in the background; the caller waits for it with Wait-BenchProcess.
function Start-Pgbench($Server, [string] $Database, [string[]] $Arguments) {
    Start-BenchProcess (Join-Path $bin 'pgbench') (@('-h', $Server.Host, '-p', $Server.Port, '-U', $Server.AdminUser) + $Arguments + @($Database)) @{ PGPASSWORD = $Server.AdminPassword }
}

function Start-MoltBench([ValidateSet('Start', 'Resume')] [string] $Verb) {
    # Each process logs to a file of its own: its stream's start-up milestones are read from it after the round.
    $log = Join-Path ([IO.Path]::GetTempPath()) "molt-bench-$PID-$($script:moltProcesses.Count).log"
    $started = [DateTime]::UtcNow
    $run = Start-MoltProcess -Verb $Verb -SourceUri $sourceUri -SourceCredential (Get-TestAdminCredential $source) -TargetUri $moltUri -TargetCredential $credential -FetchId $fetchId -LogPath $log
    $script:moltProcesses += $run.Process
    $script:moltLogs += $log
    $run | Add-Member LogPath $log
    $run | Add-Member Started $started -PassThru
}

# A Molt process's log up to its first target commit (the stream's start-up milestones among it), in seconds since the process was started.
function Write-MoltStartup($Run) {
    $imported = [regex]::Match($Run.Out.Result, 'IMPORTED (\S+)')
    if ($imported.Success) {
        Write-Step ("  {0,6:F2} s  pwsh started and the module imported" -f ([DateTime]::Parse($imported.Groups[1].Value).ToUniversalTime() - $Run.Started).TotalSeconds)
    }
    foreach ($line in Get-Content -LiteralPath $Run.LogPath) {
        $event = $line | ConvertFrom-Json -DateKind Utc
        Write-Step ("  {0,6:F2} s  {1}" -f ($event.'@t' - $Run.Started).TotalSeconds, $event.'@m')
        if ($event.'@m' -like '*first target commit*') { break }
    }
}

function Stop-MoltBench($Run) { Stop-MoltProcess -Run $Run -TargetUri $moltUri -TargetCredential $credential -FetchId $fetchId }

function Get-MoltPosition { Get-TestScalar $moltTarget $moltDb "SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = '$fetchId'" }

function Get-NativePosition { Get-TestScalar $nativeTarget $nativeDb "SELECT coalesce(max(remote_lsn), '0/0')::text FROM pg_replication_origin_status" }

function Test-Reached([string] $Position, [string] $Lsn) {
    [bool] $Position -and (Get-TestScalar $source $sourceDb "SELECT '$Position'::pg_lsn >= '$Lsn'::pg_lsn")
}

function Measure-CatchUp([string] $Peer, [string] $Lsn, [string] $Before) {
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $first = $null
    if ($Peer -eq 'Molt') {
        $run = Start-MoltBench Resume
        $position = { Get-MoltPosition }
    }
    else {
        Invoke-TestSql $nativeTarget $nativeDb 'ALTER SUBSCRIPTION "native_sub" ENABLE'
        $position = { Get-NativePosition }
    }
    while ($true) {
        $at = & $position
        if ($null -eq $first -and $at -and $at -ne $Before) { $first = $clock.Elapsed.TotalSeconds }
        if (Test-Reached $at $Lsn) { break }
        if ($clock.Elapsed.TotalMinutes -gt 30) { throw "$Peer did not catch up within 30 minutes." }
        Start-Sleep -Milliseconds 100
    }
    $seconds = $clock.Elapsed.TotalSeconds
    $peak = $null
    $cpu = $null
    if ($Peer -eq 'Molt') { $stopped = Stop-MoltBench $run; $peak = $stopped.Peak; $cpu = $stopped.Cpu; Write-MoltStartup $run }
    else { Stop-Native }
    [pscustomobject]@{ Peer = $Peer; Seconds = $seconds; FirstApplied = $first; Peak = $peak; Cpu = $cpu }
}

function Stop-Native {
    Invoke-TestSql $nativeTarget $nativeDb 'ALTER SUBSCRIPTION "native_sub" DISABLE'
    Wait-Until { -not (Get-TestScalar $nativeTarget $nativeDb "SELECT count(*) FROM pg_stat_subscription WHERE subname = 'native_sub' AND pid IS NOT NULL") } -What 'the native apply worker to exit'
}

$checks = @(
    'SELECT count(*)::text FROM "pgbench_history"',
    'SELECT sum("abalance")::text FROM "pgbench_accounts"',
    'SELECT sum("bbalance")::text FROM "pgbench_branches"',
    'SELECT sum("tbalance")::text FROM "pgbench_tellers"',
    'SELECT md5(string_agg(concat_ws('':'', "aid", "abalance"), '','' ORDER BY "aid")) FROM "pgbench_accounts"',
    'SELECT md5(string_agg(concat_ws('':'', "id", "tid", "bid", "aid", "delta"), '','' ORDER BY "id")) FROM "pgbench_history"'
)

$script:moltProcesses = @()
$script:moltLogs = @()
$servers = @()
$sourceDb, $moltDb, $nativeDb = 'bench_src', 'bench_molt', 'bench_native'
try {
    Write-Step "machine: $([Environment]::ProcessorCount) cores, load average $(Get-LoadAverage)"
    $source = Start-TestPostgres -Settings @{ max_wal_size = '4GB' }
    $moltTarget = Start-TestPostgres -Settings @{ max_wal_size = '4GB'; autovacuum = 'off' }
    $nativeTarget = Start-TestPostgres -Settings @{ max_wal_size = '4GB'; autovacuum = 'off' }
    $servers = @($source, $moltTarget, $nativeTarget)
    $credential = Get-TestAdminCredential $moltTarget
    New-TestDatabase $source $sourceDb
    New-TestDatabase $moltTarget $moltDb
    New-TestDatabase $nativeTarget $nativeDb
    $sourceUri = Get-TestUri $source $sourceDb
    $moltUri = Get-TestUri $moltTarget $moltDb

    Write-Step "pgbench -i -s $Scale"
    $null = Invoke-Pg pgbench $source $sourceDb @('-i', '-s', $Scale, '-q')
    Invoke-TestSql $source $sourceDb @'
ALTER TABLE "pgbench_history" ADD COLUMN "id" bigserial PRIMARY KEY;
CREATE TABLE "bench_heartbeat" ("id" int PRIMARY KEY, "at" timestamptz NOT NULL);
INSERT INTO "bench_heartbeat" VALUES (1, clock_timestamp());
CREATE PUBLICATION "native_pub" FOR TABLE "pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history", "bench_heartbeat";
'@
    $heartbeat = Join-Path ([IO.Path]::GetTempPath()) "molt-bench-heartbeat-$PID.sql"
    Set-Content -LiteralPath $heartbeat -Value 'UPDATE "bench_heartbeat" SET "at" = clock_timestamp() WHERE "id" = 1;'

    Write-Step 'native: schema with pg_dump -s, then CREATE SUBSCRIPTION (its own initial copy)'
    $schema = Invoke-Pg pg_dump $source $sourceDb @('-s', '--no-publications', '--no-subscriptions')
    $schemaFile = Join-Path ([IO.Path]::GetTempPath()) "molt-bench-schema-$PID.sql"
    Set-Content -LiteralPath $schemaFile -Value ($schema -join "`n")
    $null = Invoke-Pg psql $nativeTarget $nativeDb @('-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $schemaFile)
    Invoke-TestSql $nativeTarget $nativeDb ("CREATE SUBSCRIPTION `"native_sub`" CONNECTION 'host=$($source.Host) port=$($source.Port) dbname=$sourceDb user=$($source.AdminUser) " +
        "password=$($source.AdminPassword)' PUBLICATION `"native_pub`"")
    Wait-Until { (Get-TestScalar $nativeTarget $nativeDb "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'") -eq 0 } -What 'the subscription''s initial copy'

    Write-Step 'Molt: Start-MoltReplication (load, then stream)'
    $molt = Start-MoltBench Start
    Wait-Until {
        Assert-MoltProcessRunning $molt
        $status = Get-MoltReplicationStatus -Target $moltUri -TargetCredential $credential -FetchId $fetchId -ErrorAction SilentlyContinue
        $status -and $status.State -in 'Streaming', 'CaughtUp'
    } -What 'Molt to stream'
    # Both caught up with the load before the steady phase starts.
    $lsn = Get-TestScalar $source $sourceDb 'SELECT pg_current_wal_insert_lsn()::text'
    Invoke-TestSql $source $sourceDb 'UPDATE "bench_heartbeat" SET "at" = clock_timestamp()'
    Wait-Until { (Test-Reached (Get-MoltPosition) $lsn) -and (Test-Reached (Get-NativePosition) $lsn) } -What 'both to catch up with the initial state'

    Write-Step "(b) steady: pgbench -R $Rate -T $SteadySeconds -c $Clients, heartbeat 20/s, lag sampled every 200 ms"
    $bench = Start-Pgbench $source $sourceDb @('-n', '-b', 'tpcb-like', '-c', $Clients, '-j', '2', '-R', $Rate, '-T', $SteadySeconds)
    $beat = Start-Pgbench $source $sourceDb @('-n', '-f', $heartbeat, '-c', '1', '-R', '20', '-T', $SteadySeconds)
    $lag = @{ Molt = [Collections.Generic.List[double]]::new(); Native = [Collections.Generic.List[double]]::new() }
    $probe = 'SELECT extract(epoch FROM clock_timestamp() - "at")::float8 FROM "bench_heartbeat" WHERE "id" = 1'
    Start-Sleep -Seconds 2
    # Where Molt's time goes: its target session executing, idle inside its transaction (waiting for Molt), or idle between
    # batches; and its batches, counted by their checkpoints (each target transaction writes one, stamped with its start).
    $states = @{}
    $batches = [Collections.Generic.HashSet[string]]::new()
    $moltCpuBefore = Get-CpuSeconds $molt.Process.Id
    while (-not $bench.Process.HasExited) {
        $lag.Molt.Add((Get-TestScalar $moltTarget $moltDb $probe))
        $lag.Native.Add((Get-TestScalar $nativeTarget $nativeDb $probe))
        $state = Get-TestScalar $moltTarget $moltDb ("SELECT coalesce(string_agg(state, ','), 'none') FROM pg_stat_activity WHERE datname = '$moltDb' " +
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND (backend_xid IS NOT NULL OR state = 'active')")
        $states[$state] = 1 + $(if ($states.ContainsKey($state)) { $states[$state] } else { 0 })
        $null = $batches.Add((Get-TestScalar $moltTarget $moltDb "SELECT updated_at::text FROM _molt.replication_checkpoints WHERE fetch_id = '$fetchId'"))
        Start-Sleep -Milliseconds 200
    }
    $moltCpu = (Get-CpuSeconds $molt.Process.Id) - $moltCpuBefore
    Write-Step ("steady, Molt: target session seen {0}; {1} batches committed; Molt process CPU {2:F1} s" -f
        (($states.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)x" }) -join ', '), $batches.Count, $moltCpu)
    $steadyOut = Wait-BenchProcess $bench
    $null = Wait-BenchProcess $beat
    $tps = [regex]::Match($steadyOut, 'tps = ([\d.]+)').Groups[1].Value
    $steady = foreach ($peer in 'Molt', 'Native') { Get-LagSummary $peer ([double[]] $lag[$peer]) }
    $steady | ForEach-Object { Write-Step ("steady {0}: p50 {1:F3} s, p99 {2:F3} s, max {3:F3} s ({4} samples; pgbench {5} tps)" -f $_.Peer, $_.P50, $_.P99, $_.Max, $_.Samples, $tps) }

    Write-Step 'stopping both'
    $initialPeak = (Stop-MoltBench $molt).Peak
    Stop-Native
    Write-Step ("Molt's first process (load, then stream): VmHWM {0:F0} MB" -f ($initialPeak / 1MB))

    $rounds = @()
    $round = 0
    foreach ($backlog in [int[]] @($Backlogs -split ',' | Where-Object { $_ })) {
        $round++
        $perClient = [Math]::Ceiling($backlog / $Clients)
        $transactions = $perClient * $Clients
        Write-Step "(a) catch-up round ${round}: backlog pgbench -t $perClient -c $Clients ($transactions transactions, $($transactions * $changesPerTransaction) row changes)"
        $null = Wait-BenchProcess (Start-Pgbench $source $sourceDb @('-n', '-b', 'tpcb-like', '-c', $Clients, '-j', '2', '-t', $perClient))
        $lsn = Get-TestScalar $source $sourceDb 'SELECT pg_current_wal_insert_lsn()::text'
        # The marker commits after L: whoever has applied past L has applied the whole backlog.
        Invoke-TestSql $source $sourceDb 'UPDATE "bench_heartbeat" SET "at" = clock_timestamp()'
        $order = if ($round % 2 -eq 1) { 'Native', 'Molt' } else { 'Molt', 'Native' }
        foreach ($peer in $order) {
            Invoke-TestSql $source postgres 'CHECKPOINT'
            $before = if ($peer -eq 'Molt') { Get-MoltPosition } else { Get-NativePosition }
            $result = Measure-CatchUp $peer $lsn $before
            $changes = $transactions * $changesPerTransaction + 1
            $result | Add-Member Backlog $transactions
            $result | Add-Member Changes $changes
            $result | Add-Member Rate ($changes / $result.Seconds)
            $rounds += $result
            Write-Step ("{0}: {1} changes in {2:F1} s = {3:N0} changes/s (first commit applied after {4:F1} s){5}" -f $peer, $changes, $result.Seconds, $result.Rate,
                $result.FirstApplied, $(if ($result.Peak) { ", VmHWM {0:F0} MB, process CPU {1:F1} s" -f ($result.Peak / 1MB), $result.Cpu } else { '' }))
        }
    }

    Write-Step 'checking both targets against the source'
    foreach ($check in $checks) {
        $expected = Get-TestScalar $source $sourceDb $check
        foreach ($peer in @(@($moltTarget, $moltDb, 'Molt'), @($nativeTarget, $nativeDb, 'Native'))) {
            $actual = Get-TestScalar $peer[0] $peer[1] $check
            if ($actual -ne $expected) { throw "$($peer[2]) differs from the source: $check gave $actual, the source $expected" }
        }
    }
    Write-Step 'both targets equal the source'

    Write-Host ''
    Write-Host '| backlog (pgbench transactions) | row changes | Molt s | Molt changes/s | Molt peak RSS | native s | native changes/s | Molt / native |'
    Write-Host '|---:|---:|---:|---:|---:|---:|---:|---:|'
    foreach ($group in $rounds | Group-Object Backlog) {
        $m = $group.Group | Where-Object Peer -EQ 'Molt'
        $n = $group.Group | Where-Object Peer -EQ 'Native'
        Write-Host ('| {0:N0} | {1:N0} | {2:F1} | {3:N0} | {4:F0} MB | {5:F1} | {6:N0} | {7:F2}x |' -f [int] $group.Name, $m.Changes, $m.Seconds, $m.Rate, ($m.Peak / 1MB),
            $n.Seconds, $n.Rate, ($m.Rate / $n.Rate))
    }
    Write-Host ''
    Write-Host "| steady, pgbench -R $Rate ($tps tps) | samples | lag p50 | lag p99 | lag max |"
    Write-Host '|---|---:|---:|---:|---:|'
    $steady | ForEach-Object { Write-Host ('| {0} | {1} | {2:F3} s | {3:F3} s | {4:F3} s |' -f $_.Peer, $_.Samples, $_.P50, $_.P99, $_.Max) }
}
finally {
    foreach ($p in $script:moltProcesses) { if (-not $p.HasExited) { $p.Kill($true) } }
    foreach ($s in $servers) { $s.Dispose() }
    foreach ($f in @($heartbeat, $schemaFile) + $script:moltLogs) { if ($f -and (Test-Path -LiteralPath $f)) { Remove-Item -LiteralPath $f } }
}
