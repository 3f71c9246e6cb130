<#
.SYNOPSIS
MariaDB -> PostgreSQL change replication: Molt beside MariaDB's own replication into a MariaDB replica, in the same run (issue 13).

.DESCRIPTION
Starts three throwaway servers (tests/Molt.Testing): a MariaDB 10.11 source (log_bin, binlog_format ROW,
binlog_row_image FULL, binlog_row_metadata FULL, GTID strict mode) under sysbench oltp_write_only, a PostgreSQL 15
target for Molt, and a second MariaDB 10.11 as the native replica (CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos;
START SLAVE), which replays the source's binlog from its first event, sysbench prepare included. Molt runs as a user
runs it, Start-MoltReplication / Resume-MoltReplication in a pwsh process of its own, so the peak RSS it reports (VmHWM)
is its own.

Workload: sysbench oltp_write_only, each transaction one UPDATE of the indexed column k, one UPDATE of c, one DELETE and
one INSERT of the same id: 4 row changes, against -Tables tables of -TableSize rows.

(b) steady: sysbench at a fixed --rate for -SteadySeconds with both streams running, and a heartbeat row the source
    updates 20 times a second (sysbench running heartbeat.lua: microseconds since the epoch, from the source's NOW(6)),
    read every 200 ms on both copies as now - at (the probe's floor is the heartbeat interval, 0-50 ms). Once a second
    the lag each reports of itself is sampled too: Molt's LagSeconds (Get-MoltReplicationStatus) and the replica's
    Seconds_Behind_Master; both count from binlog event timestamps, which are whole seconds.
(a) catch-up, once per backlog size: both stopped (Stop-MoltReplication; STOP SLAVE), the backlog written with
    sysbench --events, the source's @@gtid_binlog_pos G read; then each started alone in turn (the order alternates
    between rounds) and timed until it has applied G (Molt: its checkpoint's SourcePosition, what
    Get-MoltReplicationStatus reports; replica: @@gtid_slave_pos). The backlog's row changes are the ones Molt's
    checkpoint counted applying it. While Molt catches up, its target session's state is sampled (executing, and on
    what it waits; idle in its transaction, waiting for Molt; or no transaction open).
    Each catch-up also records the CPU time spent: Molt's process (whole, and after its first commit) and its PostgreSQL
    server's, or the replica's mariadbd; and the source's (its binlog dump), from /proc, ended backends included. On a
    machine shared with other work, changes per CPU second say more than changes per second.
(c) Molt's peak RSS (VmHWM) of each catch-up process, for the two backlog sizes.
At the end Molt's copy is compared with the source by Compare-MoltData and the replica's by a CRC32 sum of every row.

Build first: dotnet tool restore; dotnet pwsh -NoProfile ./build.ps1 -Task Build (the module in out/Molt, and
tests/Molt.Testing in Release).

.EXAMPLE
dotnet pwsh -NoProfile bench/replication/Invoke-MySqlReplicationBench.ps1 -Tables 4 -TableSize 10000 -Backlogs 5000,20000 -Rate 100 -SteadySeconds 60
#>
[CmdletBinding()]
param(
    # sysbench prepare: tables of rows each.
    [int] $Tables = 4,
    [int] $TableSize = 10000,
    # sysbench transactions of each catch-up backlog, comma-separated (a command line from a shell passes one string);
    # each transaction writes 4 rows.
    [string] $Backlogs = '5000,20000',
    [int] $Threads = 4,
    # Steady phase: sysbench transactions per second, and for how long.
    [int] $Rate = 100,
    [int] $SteadySeconds = 60,
    # The replica's slave_parallel_threads (MariaDB's default, 0, applies on one thread, as Molt does).
    [int] $ReplicaParallelThreads = 0
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$root = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
Import-Module (Join-Path $root 'tests' 'Pester' 'MoltTestHarness.psm1') -Force
Import-BuiltMolt
Import-Module (Join-Path $PSScriptRoot 'ReplicationBench.psm1') -Force

$fetchId = 'bench'
$sourceDb, $moltDb = 'sbtest', 'bench_molt'

# sysbench against the source; its password is in a file only this user can read, never on its command line.
function Start-Sysbench([string] $Test, [string[]] $Arguments) {
    Start-BenchProcess '/usr/bin/sysbench' (@($Test, '--db-driver=mysql', "--config-file=$sysbenchConfig", "--mysql-host=$($source.Host)",
            "--mysql-port=$($source.Port)", "--mysql-user=$($source.AdminUser)", "--mysql-db=$sourceDb", "--tables=$Tables",
            "--table-size=$TableSize", "--threads=$Threads") + $Arguments)
}

<#
One open connection per copy for the probes, which run every 100-200 ms: a connection per probe would cost the server a
backend each time (PostgreSQL: a fork and a SCRAM exchange) and charge the bench's own polling to the peer's CPU.
#>
function Open-Probe($Server, [string] $Database) {
    $connection = if ($Server -is [Molt.Testing.PostgresServer]) { [Npgsql.NpgsqlConnection]::new($Server.ConnectionString($Database)) }
    else { [MySqlConnector.MySqlConnection]::new($Server.ConnectionString($Database)) }
    $connection.Open()
    $script:probes += $connection
    $connection
}

# The first row as name to value, or $null.
function Get-ProbeRow($Connection, [string] $Sql) {
    $command = $Connection.CreateCommand()
    try {
        $command.CommandText = $Sql
        $reader = $command.ExecuteReader()
        try {
            if (-not $reader.Read()) { return $null }
            $row = [ordered]@{}
            for ($i = 0; $i -lt $reader.FieldCount; $i++) { $row[$reader.GetName($i)] = $reader.GetValue($i) }
            $row
        }
        finally { $reader.Dispose() }
    }
    finally { $command.Dispose() }
}

function Get-ProbeScalar($Connection, [string] $Sql) {
    $row = Get-ProbeRow $Connection $Sql
    if ($null -ne $row) { @($row.Values)[0] }
}

# The replica's SQL or IO thread stopped on an error would otherwise look like a replica that never catches up.
function Assert-ReplicaHealthy {
    $status = Get-ProbeRow $replicaProbe 'SHOW SLAVE STATUS'
    if ($status -and ($status.Last_SQL_Errno -ne 0 -or $status.Last_IO_Errno -ne 0)) {
        throw "The replica stopped on an error: SQL $($status.Last_SQL_Errno) $($status.Last_SQL_Error); IO $($status.Last_IO_Errno) $($status.Last_IO_Error)"
    }
}

function Get-SourceGtid { [string] (Get-TestScalar $source '' 'SELECT @@gtid_binlog_pos') }

function Get-ReplicaGtid { [string] (Get-ProbeScalar $replicaProbe 'SELECT @@gtid_slave_pos') }

function Get-MoltCheckpoint {
    $row = Get-ProbeScalar $pgProbe "SELECT concat_ws(' ', position, inserts + updates + deletes) FROM _molt.replication_checkpoints WHERE fetch_id = '$fetchId'"
    if (-not $row) { return [pscustomobject]@{ Position = ''; Changes = 0L } }
    $position, $changes = ([string] $row) -split ' '
    [pscustomobject]@{ Position = $position; Changes = [long] $changes }
}

# MariaDB GTID positions (domain-server-sequence, one per domain): At has reached Goal when every domain of Goal is at or past it.
function Test-GtidReached([string] $At, [string] $Goal) {
    $seen = @{}
    foreach ($gtid in $At -split ',' | Where-Object { $_ }) { $d, $null, $n = $gtid.Trim() -split '-'; $seen[$d] = [ulong] $n }
    foreach ($gtid in $Goal -split ',' | Where-Object { $_ }) {
        $d, $null, $n = $gtid.Trim() -split '-'
        if (-not $seen.ContainsKey($d) -or $seen[$d] -lt [ulong] $n) { return $false }
    }
    $true
}

function Start-MoltBench([ValidateSet('Start', 'Resume')] [string] $Verb) {
    $run = Start-MoltProcess -Verb $Verb -SourceUri $sourceUri -SourceCredential (Get-TestAdminCredential $source) -TargetUri $moltUri -TargetCredential $credential -FetchId $fetchId
    $script:moltProcesses += $run.Process
    $run
}

function Stop-MoltBench($Run) { Stop-MoltProcess -Run $Run -TargetUri $moltUri -TargetCredential $credential -FetchId $fetchId }

function Start-Replica {
    Invoke-TestSql $replica '' "SET GLOBAL slave_parallel_threads = $ReplicaParallelThreads"
    Invoke-TestSql $replica '' 'START SLAVE'
}

function Stop-Replica { Invoke-TestSql $replica '' 'STOP SLAVE' }

function Wait-BothReached([string] $Gtid, [string] $What) {
    Wait-Until {
        Assert-MoltProcessRunning $molt
        Assert-ReplicaHealthy
        (Test-GtidReached (Get-MoltCheckpoint).Position $Gtid) -and (Test-GtidReached (Get-ReplicaGtid) $Gtid)
    } -What $What
}

function Measure-CatchUp([string] $Peer, [string] $Gtid) {
    # The CPU each side spends: Molt and its PostgreSQL, or the replica's mariadbd; and the source's (its binlog dump).
    $server = if ($Peer -eq 'Molt') { $pg } else { $replica }
    $serverCpuBefore = Get-ProcessTreeCpuSeconds $server.ProcessId
    $sourceCpuBefore = Get-ProcessTreeCpuSeconds $source.ProcessId
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $first = $null
    $cpuAtFirst = $null
    if ($Peer -eq 'Molt') {
        $before = Get-MoltCheckpoint
        $run = Start-MoltBench Resume
        $position = { Assert-MoltProcessRunning $run; (Get-MoltCheckpoint).Position }
    }
    else {
        $before = [pscustomobject]@{ Position = Get-ReplicaGtid }
        Start-Replica
        $position = { Assert-ReplicaHealthy; Get-ReplicaGtid }
    }
    # Where Molt's time goes: its target session executing (and on what it waits), idle inside its transaction (waiting
    # for Molt), or no transaction open (Molt reading and decoding the binlog, or starting up).
    $states = @{}
    while ($true) {
        $at = & $position
        if ($Peer -eq 'Molt' -and $null -ne $first) {
            $state = [string] (Get-ProbeScalar $pgProbe $targetSessionState)
            $states[$state] = 1 + $(if ($states.ContainsKey($state)) { $states[$state] } else { 0 })
        }
        if ($null -eq $first -and $at -and $at -ne $before.Position) {
            $first = $clock.Elapsed.TotalSeconds
            if ($Peer -eq 'Molt') { $cpuAtFirst = Get-CpuSeconds $run.Process.Id }
        }
        if (Test-GtidReached $at $Gtid) { break }
        if ($clock.Elapsed.TotalMinutes -gt 30) { throw "$Peer did not catch up within 30 minutes." }
        Start-Sleep -Milliseconds 100
    }
    $seconds = $clock.Elapsed.TotalSeconds
    $result = [pscustomobject]@{ Peer = $Peer; Seconds = $seconds; FirstApplied = $first; Peak = $null; Cpu = $null; Applied = $null
        States = ($states.GetEnumerator() | Sort-Object Value -Descending | ForEach-Object { "$($_.Key) $($_.Value)x" }) -join ', ' }
    if ($Peer -eq 'Molt') {
        $result.Applied = (Get-MoltCheckpoint).Changes - $before.Changes
        $stopped = Stop-MoltBench $run
        # -Verbose shows the catch-up's timeline: Molt's statuses, one a second.
        Write-Verbose (($run.Out.Result -split "`n" | Where-Object { $_ -like 'STATUS *' }) -join "`n")
        $result.Peak = $stopped.Peak
        $result.Cpu = $stopped.Cpu
        $result | Add-Member CpuAfterFirst ($stopped.Cpu - $cpuAtFirst)
    }
    else { Stop-Replica }
    # Molt's target backends have ended and been waited for by now, or soon: their time moves to the postmaster's cutime.
    Start-Sleep -Milliseconds 500
    $result | Add-Member ServerCpu ((Get-ProcessTreeCpuSeconds $server.ProcessId) - $serverCpuBefore)
    $result | Add-Member SourceCpu ((Get-ProcessTreeCpuSeconds $source.ProcessId) - $sourceCpuBefore)
    $result
}

$targetSessionState = "SELECT coalesce(string_agg(state || coalesce(' on ' || wait_event, ''), ','), 'no transaction') FROM pg_stat_activity " +
    "WHERE datname = '$moltDb' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND (backend_xid IS NOT NULL OR state = 'active')"

# One CRC32 sum over every row of a sysbench table: equal on two MariaDB servers when their rows are.
function Get-TableDigest($Server, [string] $Table) {
    [string] (Get-TestScalar $Server $sourceDb "SELECT concat(count(*), ':', coalesce(sum(crc32(concat_ws('#', id, k, c, pad))), 0)) FROM ``$Table``")
}

$script:moltProcesses = @()
$script:probes = @()
$servers = @()
$temporary = @()
$runs = @()
try {
    Write-Step "machine: $([Environment]::ProcessorCount) cores, load average $(Get-LoadAverage)"
    $source = Start-TestMariaDb -Settings @{ 'binlog-row-metadata' = 'FULL' }
    $servers += $source
    $replica = Start-TestMariaDb
    $servers += $replica
    $pg = Start-TestPostgres -Settings @{ max_wal_size = '4GB'; autovacuum = 'off' }
    $servers += $pg
    $drivers = [IO.Path]::GetDirectoryName([Molt.Testing.MariaDbServer].Assembly.Location)
    Add-Type -LiteralPath (Join-Path $drivers 'MySqlConnector.dll'), (Join-Path $drivers 'Npgsql.dll')
    $credential = Get-TestAdminCredential $pg
    New-TestDatabase $source $sourceDb
    New-TestDatabase $pg $moltDb
    $sourceUri = Get-TestUri $source $sourceDb
    $pgProbe = Open-Probe $pg $moltDb
    $replicaProbe = Open-Probe $replica ''
    $moltUri = Get-TestUri $pg $moltDb

    $sysbenchConfig = Join-Path ([IO.Path]::GetTempPath()) "molt-bench-sysbench-$PID.cfg"
    $temporary += $sysbenchConfig
    $null = New-Item -ItemType File -Path $sysbenchConfig -Force
    & chmod 600 $sysbenchConfig
    Set-Content -LiteralPath $sysbenchConfig -Value "mysql-password=$($source.AdminPassword)"
    $heartbeat = Join-Path ([IO.Path]::GetTempPath()) "molt-bench-heartbeat-$PID.lua"
    $temporary += $heartbeat
    Set-Content -LiteralPath $heartbeat -Value @'
function thread_init()
  drv = sysbench.sql.driver()
  con = drv:connect()
end
function event()
  con:query("UPDATE bench_heartbeat SET at_us = CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED) WHERE id = 1")
end
function thread_done()
  con:disconnect()
end
'@

    Write-Step "sysbench oltp_write_only prepare: $Tables tables of $TableSize rows"
    $null = Wait-BenchProcess (Start-Sysbench oltp_write_only @('prepare'))
    Invoke-TestSql $source $sourceDb 'CREATE TABLE bench_heartbeat (id INT PRIMARY KEY, at_us BIGINT NOT NULL); INSERT INTO bench_heartbeat VALUES (1, CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED))'

    Write-Step 'replica: CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos, START SLAVE (replays the source''s binlog from its start)'
    $escaped = $source.AdminPassword -replace '\\', '\\' -replace "'", "''"
    Invoke-TestSql $replica '' ("CHANGE MASTER TO MASTER_HOST='$($source.Host)', MASTER_PORT=$($source.Port), MASTER_USER='$($source.AdminUser)', " +
        "MASTER_PASSWORD='$escaped', MASTER_USE_GTID=slave_pos")
    Start-Replica

    Write-Step 'Molt: Start-MoltReplication (load, then stream)'
    $molt = Start-MoltBench Start
    Wait-Until {
        Assert-MoltProcessRunning $molt
        $status = Get-MoltReplicationStatus -Target $moltUri -TargetCredential $credential -FetchId $fetchId -ErrorAction SilentlyContinue
        $status -and $status.State -in 'Streaming', 'CaughtUp'
    } -What 'Molt to stream'
    Invoke-TestSql $source $sourceDb 'UPDATE bench_heartbeat SET at_us = CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)'
    Wait-BothReached (Get-SourceGtid) 'both to catch up with the initial state'

    Write-Step "(b) steady: sysbench oltp_write_only --rate=$Rate --time=$SteadySeconds --threads=$Threads, heartbeat 20/s, lag sampled every 200 ms (self-reported lag every second)"
    $bench = Start-Sysbench oltp_write_only @("--rate=$Rate", "--time=$SteadySeconds", 'run')
    $beat = Start-BenchProcess '/usr/bin/sysbench' @($heartbeat, '--db-driver=mysql', "--config-file=$sysbenchConfig", "--mysql-host=$($source.Host)",
        "--mysql-port=$($source.Port)", "--mysql-user=$($source.AdminUser)", "--mysql-db=$sourceDb", '--threads=1', '--rate=20', "--time=$SteadySeconds", 'run')
    $lag = @{}
    foreach ($series in 'Molt', 'Replica', 'MoltReported', 'ReplicaReported') { $lag[$series] = [Collections.Generic.List[double]]::new() }
    $pgLag = 'SELECT ((extract(epoch FROM clock_timestamp()) * 1000000 - "at_us") / 1000000)::float8 FROM "bench_heartbeat" WHERE "id" = 1'
    $mariaLag = "SELECT (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED) - at_us) / 1000000 FROM ``$sourceDb``.bench_heartbeat WHERE id = 1"
    Start-Sleep -Seconds 2
    $moltCpuBefore = Get-CpuSeconds $molt.Process.Id
    $sample = 0
    while (-not $bench.Process.HasExited) {
        $lag.Molt.Add([double] (Get-ProbeScalar $pgProbe $pgLag))
        $lag.Replica.Add([double] (Get-ProbeScalar $replicaProbe $mariaLag))
        if (($sample++ % 5) -eq 0) {
            $status = Get-MoltReplicationStatus -Target $moltUri -TargetCredential $credential -FetchId $fetchId
            if ($null -ne $status.LagSeconds) { $lag.MoltReported.Add([double] $status.LagSeconds) }
            $slave = Get-ProbeRow $replicaProbe 'SHOW SLAVE STATUS'
            if ($slave.Seconds_Behind_Master -isnot [DBNull]) { $lag.ReplicaReported.Add([double] $slave.Seconds_Behind_Master) }
        }
        Start-Sleep -Milliseconds 200
    }
    $moltCpu = (Get-CpuSeconds $molt.Process.Id) - $moltCpuBefore
    $steadyOut = Wait-BenchProcess $bench
    $null = Wait-BenchProcess $beat
    $tps = [regex]::Match($steadyOut, 'transactions:\s+\d+\s+\(([\d.]+) per sec').Groups[1].Value
    $steady = foreach ($peer in 'Molt', 'Replica') {
        $summary = Get-LagSummary $peer ([double[]] $lag[$peer])
        # A peer that never said how far behind it was (no status yet, a stopped replica thread) has no self-reported figure.
        $reported = if ($lag["${peer}Reported"].Count) { Get-LagSummary $peer ([double[]] $lag["${peer}Reported"]) } else { [pscustomobject]@{ P50 = [double]::NaN; P99 = [double]::NaN; Samples = 0 } }
        $summary | Add-Member ReportedP50 $reported.P50
        $summary | Add-Member ReportedP99 $reported.P99
        $summary | Add-Member ReportedSamples $reported.Samples
        $summary
    }
    $steady | ForEach-Object { Write-Step ("steady {0}: heartbeat lag p50 {1:F3} s, p99 {2:F3} s, max {3:F3} s ({4} samples); self-reported p50 {5} s, p99 {6} s ({7} samples); sysbench {8} tps" -f
            $_.Peer, $_.P50, $_.P99, $_.Max, $_.Samples, $_.ReportedP50, $_.ReportedP99, $_.ReportedSamples, $tps) }
    Write-Step ("steady: Molt process CPU {0:F1} s in {1} s; load average {2}" -f $moltCpu, $SteadySeconds, (Get-LoadAverage))

    Write-Step 'stopping both, once both have applied everything'
    Wait-BothReached (Get-SourceGtid) 'both to apply the steady phase'
    $initial = Stop-MoltBench $molt
    Stop-Replica
    Write-Step ("Molt's first process (load, then stream): VmHWM {0:F0} MB" -f ($initial.Peak / 1MB))

    $round = 0
    foreach ($backlog in [int[]] @($Backlogs -split ',' | Where-Object { $_ })) {
        $round++
        Write-Step "(a) catch-up round ${round}: backlog sysbench oltp_write_only --events=$backlog --threads=$Threads (about $($backlog * 4) row changes)"
        $null = Wait-BenchProcess (Start-Sysbench oltp_write_only @("--events=$backlog", '--time=0', 'run'))
        $gtid = Get-SourceGtid
        $order = if ($round % 2 -eq 1) { 'Replica', 'Molt' } else { 'Molt', 'Replica' }
        $results = foreach ($peer in $order) {
            Invoke-TestSql $pg postgres 'CHECKPOINT'
            $load = Get-LoadAverage
            $result = Measure-CatchUp $peer $gtid
            $result | Add-Member Backlog $backlog
            $result | Add-Member Load $load
            $result
        }
        $changes = ($results | Where-Object Peer -EQ 'Molt').Applied
        foreach ($result in $results) {
            $result | Add-Member Changes $changes
            $result | Add-Member Rate ($changes / $result.Seconds)
            Write-Step ("{0}: {1} changes up to {2} in {3:F1} s = {4:N0} changes/s (first commit applied after {5:F1} s; load average before {6}){7}" -f $result.Peer, $changes,
                $gtid, $result.Seconds, $result.Rate, $result.FirstApplied, $result.Load,
                $(if ($result.Peak) { ", VmHWM {0:F0} MB, process CPU {1:F1} s; target session after the first commit: {2}" -f ($result.Peak / 1MB), $result.Cpu, $result.States } else { '' }))
            Write-Step ("{0}: CPU of its server {1:F1} s, of the source {2:F1} s" -f $result.Peer, $result.ServerCpu, $result.SourceCpu)
        }
        $runs += $results
    }

    Write-Step 'checking both copies against the source'
    $comparison = @(Compare-MoltData $sourceUri $moltUri -SourceCredential (Get-TestAdminCredential $source) -TargetCredential $credential)
    $unequal = @($comparison | Where-Object Status -NE 'Equal')
    if ($unequal) { throw "Molt's copy differs from the source: $(($unequal | ForEach-Object { "$($_.Table) $($_.Status)" }) -join ', ')" }
    foreach ($table in 1..$Tables | ForEach-Object { "sbtest$_" }) {
        if ((Get-TableDigest $replica $table) -ne (Get-TableDigest $source $table)) { throw "The replica's $table differs from the source's." }
    }
    Write-Step "both copies equal the source (Compare-MoltData: $($comparison.Count) tables Equal; replica: row count and CRC32 sum of every sysbench table); load average $(Get-LoadAverage)"

    Write-Host ''
    Write-Host '| backlog (sysbench transactions) | row changes | Molt s (first commit at) | Molt changes/s (after its first commit) | Molt peak RSS | replica s | replica changes/s | Molt / replica | load average before Molt / replica |'
    Write-Host '|---:|---:|---:|---:|---:|---:|---:|---:|---|'
    foreach ($group in $runs | Group-Object Backlog) {
        $m = $group.Group | Where-Object Peer -EQ 'Molt'
        $r = $group.Group | Where-Object Peer -EQ 'Replica'
        # A backlog applied in one batch has no time after its first commit to divide by.
        $afterFirst = if ($m.Seconds - $m.FirstApplied -ge 0.5) { '{0:N0}' -f ($m.Changes / ($m.Seconds - $m.FirstApplied)) } else { '-' }
        Write-Host ('| {0:N0} | {1:N0} | {2:F1} ({3:F1}) | {4:N0} ({5}) | {6:F0} MB | {7:F1} | {8:N0} | {9:F2}x | {10} / {11} |' -f [int] $group.Name, $m.Changes, $m.Seconds,
            $m.FirstApplied, $m.Rate, $afterFirst, ($m.Peak / 1MB), $r.Seconds, $r.Rate, ($m.Rate / $r.Rate),
            ($m.Load -split ' ')[0], ($r.Load -split ' ')[0])
    }
    # On a machine this shared, wall time is mostly the scheduler's share; CPU per change says what each side costs.
    Write-Host ''
    Write-Host '| backlog (sysbench transactions) | Molt process CPU (after its first commit) | its PostgreSQL CPU | Molt + PostgreSQL changes per CPU s | replica mariadbd CPU | replica changes per CPU s | source CPU during Molt / replica |'
    Write-Host '|---:|---:|---:|---:|---:|---:|---:|'
    foreach ($group in $runs | Group-Object Backlog) {
        $m = $group.Group | Where-Object Peer -EQ 'Molt'
        $r = $group.Group | Where-Object Peer -EQ 'Replica'
        Write-Host ('| {0:N0} | {1:F1} s ({2:F1} s) | {3:F1} s | {4:N0} | {5:F1} s | {6:N0} | {7:F1} s / {8:F1} s |' -f [int] $group.Name, $m.Cpu, $m.CpuAfterFirst, $m.ServerCpu,
            ($m.Changes / ($m.Cpu + $m.ServerCpu)), $r.ServerCpu, ($r.Changes / [Math]::Max(0.01, $r.ServerCpu)), $m.SourceCpu, $r.SourceCpu)
    }
    Write-Host ''
    Write-Host "| steady, sysbench --rate=$Rate ($tps tps, 4 row changes each) | samples | heartbeat lag p50 | p99 | max | self-reported lag p50 | p99 |"
    Write-Host '|---|---:|---:|---:|---:|---:|---:|'
    $steady | ForEach-Object { Write-Host ('| {0} | {1} | {2:F3} s | {3:F3} s | {4:F3} s | {5:F1} s | {6:F1} s |' -f $_.Peer, $_.Samples, $_.P50, $_.P99, $_.Max, $_.ReportedP50, $_.ReportedP99) }
    Write-Host ''
    Write-Host ("Molt peak RSS: first process (load, then stream) {0:F0} MB; catch-up processes {1}" -f ($initial.Peak / 1MB),
        (($runs | Where-Object Peer -EQ 'Molt' | ForEach-Object { "{0:F0} MB for {1:N0} changes" -f ($_.Peak / 1MB), $_.Changes }) -join ', '))
}
finally {
    foreach ($p in $script:moltProcesses) { if (-not $p.HasExited) { $p.Kill($true) } }
    foreach ($c in $script:probes) { $c.Dispose() }
    foreach ($s in $servers) { $s.Dispose() }
    foreach ($f in $temporary) { if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f } }
}
