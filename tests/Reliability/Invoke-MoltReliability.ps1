<#
.SYNOPSIS
    The fault suite (issue 16): every flow under a write load, faults at random points from a recorded seed, the
    documented resume after each, and checks at the end of each flow.
.DESCRIPTION
    Starts throwaway servers (a PostgreSQL source, a PostgreSQL target, a MariaDB source), each behind a TCP fault proxy
    that Molt connects through, and runs the flows in real child pwsh processes as a user would:
      BulkLoad            Start-MoltBulkLoad under writes to a table outside its selection, one fault per load, then
                          Get-MoltFetchStatus | Start-MoltBulkLoad -Resume until it succeeds.
      Resume              Start-MoltReplication killed (SIGKILL or Ctrl+C) during its load, finished with
                          Start-MoltBulkLoad -FetchId -Resume, then Resume-MoltReplication.
      PgReplication       PostgreSQL to PostgreSQL under pgbench (a mixed script: inserts, updates, deletes, a key change).
      Failback            after the cutover, Invoke-MoltFailback under pgbench on the target.
      MariaDbReplication  MariaDB to PostgreSQL under the suite's own writer.
    Faults: SIGKILL and Ctrl+C of the Molt process; source and target server restarts, fast and immediate; connection
    cut, reset and stall (longer than the timeouts) through the proxy on the source side and on the target side. After
    each fault a marker row is written on the source and the fault counts as survived once it reaches the target; a
    fault that ended the Molt process is followed by the resume the README gives. Each flow ends with Compare-MoltData
    and the suite's own checks: per table row count, a sum and a digest on both sides, repeated ids, and rows a keyless
    audit table has beyond the source's (a change applied twice).
    Prints one line per fault and the figures table; writes faults.csv, figures.csv and samples.csv (the Molt
    process's memory and the lag every -SampleSeconds) into the run folder, and returns the figures.
.PARAMETER Minutes
    0 (default): the short run, a fixed set of faults (every kind once across the replication flows, one kill of a bulk
    load, of a load under Start-MoltReplication and of a failback). More: the long run, random faults until the time
    is spent, shared among the flows.
.EXAMPLE
    dotnet pwsh -NoProfile tests/Reliability/Invoke-MoltReliability.ps1 -Seed 1616 -Minutes 60
#>
[CmdletBinding()]
param(
    [int] $Seed = (Get-Random -Maximum 1000000),
    [double] $Minutes = 0,
    [string[]] $Flows = @('BulkLoad', 'Resume', 'PgReplication', 'Failback', 'MariaDbReplication'),
    # Only these fault kinds (to reproduce a failure); all of them by default.
    [string[]] $Faults,
    [string] $RunFolder,
    [int] $SampleSeconds = 10,
    [int] $StallSeconds = 15,
    # The command and connect timeout of Molt's PostgreSQL connections in the replication flows, shorter than the stalls.
    [int] $Timeouts = 5
)

$ErrorActionPreference = 'Stop'
# pwsh -File passes 'a,b' as one string.
$Flows = @($Flows -split ',' | ForEach-Object Trim | Where-Object { $_ })
$Faults = @($Faults -split ',' | ForEach-Object Trim | Where-Object { $_ })
foreach ($flow in $Flows) { if ($flow -notin 'BulkLoad', 'Resume', 'PgReplication', 'Failback', 'MariaDbReplication') { throw "Unknown flow '$flow'." } }
Import-Module (Join-Path $PSScriptRoot '..' 'Pester' 'MoltTestHarness.psm1') -Force
Import-BuiltMolt
Initialize-TestServers
Import-Module (Join-Path $PSScriptRoot 'MoltReliability.psm1') -Force
foreach ($fault in $Faults) { if ($fault -notin (Get-FaultKinds)) { throw "Unknown fault '$fault': one of $((Get-FaultKinds) -join ', ')." } }

if (-not $RunFolder) { $RunFolder = Join-Path ([IO.Path]::GetTempPath()) "molt-reliability-$Seed-$([DateTime]::UtcNow.ToString('yyyyMMddHHmmss'))" }
$clock = [Diagnostics.Stopwatch]::StartNew()
Write-Host "reliability seed=$Seed minutes=$Minutes flows=$($Flows -join ',') folder=$RunFolder"
$run = New-ReliabilityRun -Seed $Seed -Folder $RunFolder -SampleSeconds $SampleSeconds -NeedMariaDb ($Flows -contains 'MariaDbReplication')
$replicationFlows = @('PgReplication', 'MariaDbReplication') | Where-Object { $Flows -contains $_ }

# The plan: which faults each flow gets. Short: every kind once, each on one of the replication flows chosen by the
# seed; long: a share of the time per flow.
$plan = @{}
$deadline = @{}
if ($Minutes -le 0) {
    foreach ($flow in $Flows) { $plan[$flow] = [System.Collections.Generic.List[string]]::new() }
    $kinds = Get-FaultKinds | Where-Object { -not $Faults -or $Faults -contains $_ } | Sort-Object { $run.Random.Next() }
    $index = 0
    foreach ($kind in $kinds) {
        if ($replicationFlows) { $plan[@($replicationFlows)[$index % @($replicationFlows).Count]].Add($kind) }
        $index++
    }
    foreach ($flow in 'BulkLoad', 'Resume', 'Failback') { if ($plan.ContainsKey($flow)) { $plan[$flow].Add(@('SigKill', 'CtrlC')[$run.Random.Next(2)]) } }
} else {
    $shares = @{ BulkLoad = 0.12; Resume = 0.03; PgReplication = 0.35; Failback = 0.15; MariaDbReplication = 0.35 }
    $total = ($Flows | ForEach-Object { $shares[$_] } | Measure-Object -Sum).Sum
    foreach ($flow in $Flows) { $deadline[$flow] = [timespan]::FromMinutes($Minutes * $shares[$flow] / $total) }
}

# The next fault of a flow, or $null when its plan or its time is spent.
function Get-NextFault([string] $Flow, [string[]] $Kinds, [Diagnostics.Stopwatch] $FlowClock) {
    if ($Minutes -le 0) {
        if ($plan[$Flow].Count -eq 0) { return $null }
        $next = $plan[$Flow][0]
        $plan[$Flow].RemoveAt(0)
        return $next
    }
    if ($FlowClock.Elapsed -ge $deadline[$Flow]) { return $null }
    $allowed = @($Kinds | Where-Object { -not $Faults -or $Faults -contains $_ })
    $allowed[$run.Random.Next($allowed.Count)]
}

function Write-MarkerRow($Server, [string] $Database, [long] $Id) {
    for ($try = 1; ; $try++) {
        try { Invoke-TestSql $Server $Database "INSERT INTO rel_markers (id) VALUES ($Id)"; return }
        catch { if ($try -ge 60) { throw } ; Start-Sleep -Seconds 1 }
    }
}

<#
One replication flow: the stream started (or given), then each planned fault at a random point while it streams, each
followed by a marker row written on the change source that must reach the destination, resuming whenever the fault or
the retries ended the Molt process. Returns the last child.
#>
function Invoke-StreamFaults {
    param([string] $Flow, $Child, [string] $Resume, [string] $SourceUri, [string] $TargetUri, $From, [string] $FromDb, $To, [string] $ToDb, [string] $SourceKind, [long] $MarkerBase)
    $figures = Get-FlowFigures $run $Flow
    $flowClock = [Diagnostics.Stopwatch]::StartNew()
    $kinds = Get-FaultKinds
    $marker = $MarkerBase
    while ($null -ne ($kind = Get-NextFault $Flow $kinds $flowClock)) {
        $marker++
        $point = [Math]::Round(0.5 + $run.Random.NextDouble() * 4.5, 1)
        Wait-Seconds $run $point
        $resumes = 0
        if ($Child.Process.HasExited) {
            $code = Complete-MoltRun $run $Child
            Write-Host "flow=$Flow the Molt process ended before the fault (exit $code $(Get-MoltErrorId $Child)): resumed"
            $Child = Start-MoltRun $run $Resume $SourceUri $TargetUri
            $resumes++
            Wait-Seconds $run 3
        }
        $faultClock = [Diagnostics.Stopwatch]::StartNew()
        $action = Invoke-Fault $run $kind $Child $SourceKind $StallSeconds
        $outcome = 'recovered by itself'
        if ($action -eq 'Resume') {
            $code = Complete-MoltRun $run $Child
            $outcome = "exit $code, resumed"
            $Child = Start-MoltRun $run $Resume $SourceUri $TargetUri
            $resumes++
        }
        Write-MarkerRow $From $FromDb $marker
        $survived = $false
        while ($faultClock.Elapsed.TotalSeconds -lt 300) {
            if (Wait-For $run -Seconds 240 -Child $Child { (Get-SafeScalar $To $ToDb "SELECT count(*) FROM rel_markers WHERE id = $marker") -eq 1 }) { $survived = $true; break }
            if (-not $Child.Process.HasExited) { break }
            $code = Complete-MoltRun $run $Child
            $outcome = "Molt ended (exit $code $(Get-MoltErrorId $Child)), resumed"
            if ($resumes -ge 4) { break }
            $Child = Start-MoltRun $run $Resume $SourceUri $TargetUri
            $resumes++
        }
        if (-not $survived) {
            $outcome = "NOT SURVIVED: marker $marker not on the target after $([int] $faultClock.Elapsed.TotalSeconds) s; $outcome"
            if (-not $Child.Process.HasExited) { $Child.Process.Kill($true) }
            $null = Complete-MoltRun $run $Child
            $Child = Start-MoltRun $run $Resume $SourceUri $TargetUri
            $resumes++
        }
        $figures.Faults++
        if ($survived) { $figures.Survived++ }
        $figures.Resumes += $resumes
        Add-FaultRecord $run $Flow $kind "+${point}s streaming" $outcome $survived $resumes $faultClock.Elapsed.TotalSeconds
    }
    $Child
}

# Stops a stream from this process as a cutover does, and waits for its Molt process to end.
function Stop-Stream([string] $Flow, $Child, [string] $TargetUri, [switch] $Failback) {
    $stop = @{ Target = $TargetUri; TargetCredential = $run.Credential; FetchId = 'rel'; Timeout = '00:03:00'; WarningAction = 'SilentlyContinue'; ErrorAction = 'Stop' }
    if ($Failback) { $stop.Failback = $true }
    $final = Stop-MoltReplication @stop
    $code = Complete-MoltRun $run $Child 180
    if ($code -ne 0) { throw "The $Flow stream's Molt process ended with $code after Stop-MoltReplication: $($Child.StdErr.Result)" }
    $final
}

function Add-Checks([string] $Flow, $Compare, $Digests, [long] $Changes) {
    $figures = Get-FlowFigures $run $Flow
    $figures.RowsChecked += $Digests.Rows
    $figures.ChangesChecked += $Changes
    $figures.Duplicates += $Digests.Duplicates
    $figures.Differences += $Compare.Differences + $Digests.Differences
    $detail = @($Compare.Detail, $Digests.Detail) | Where-Object { $_ }
    Write-Host ("checked flow={0} rows={1} changes={2} duplicates={3} differences={4} {5}" -f $Flow, $Digests.Rows, $Changes, $Digests.Duplicates, ($Compare.Differences + $Digests.Differences), ($detail -join '; '))
}

$pgChecks = @(
    @{ Table = 'pgbench_accounts'; Columns = 'aid, bid, abalance'; Extra = 'sum(abalance)'; Id = 'aid' }
    @{ Table = 'pgbench_tellers'; Columns = 'tid, bid, tbalance'; Extra = 'sum(tbalance)'; Id = 'tid' }
    @{ Table = 'pgbench_branches'; Columns = 'bid, bbalance'; Extra = 'sum(bbalance)'; Id = 'bid' }
    @{ Table = 'pgbench_history'; Columns = 'id, tid, bid, aid, delta'; Extra = 'sum(delta)'; Id = 'id' }
    @{ Table = 'pgbench_audit'; Columns = 'aid, delta'; Extra = 'sum(delta)'; Keyless = $true }
    @{ Table = 'items'; Columns = 'id, grp, v'; Extra = 'sum(v)'; Id = 'id' }
    @{ Table = 'rel_markers'; Columns = 'id'; Extra = 'sum(id)'; Id = 'id' }
)

try {
    $pgbenchScript = New-PgbenchScript $run

    # ---- BulkLoad: one fault per load; the load's tables are written to by nobody, a table beside them is. ----
    if ($Flows -contains 'BulkLoad') {
        $run.Flow = 'BulkLoad'
        $figures = Get-FlowFigures $run 'BulkLoad'
        $flowClock = [Diagnostics.Stopwatch]::StartNew()
        New-TestDatabase $run.Source bl_src
        New-TestDatabase $run.Target bl_dst
        Invoke-PgbenchInit $run.Source bl_src 4
        Invoke-TestSql $run.Source bl_src @'
ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) SELECT g % 30 + 1, g % 3 + 1, g, g % 1000, now() FROM generate_series(1, 100000) g;
CREATE TABLE churn (id bigserial PRIMARY KEY, v double precision NOT NULL);
ANALYZE;
'@
        $churn = Join-Path $run.Folder 'pgbench-churn.sql'
        Set-Content -LiteralPath $churn -Value "INSERT INTO churn (v) VALUES (random());`nDELETE FROM churn WHERE id = (SELECT min(id) FROM churn) AND (SELECT count(*) FROM churn) > 100;"
        $writer = Start-PgWriter $run $run.Source bl_src $churn 40 0
        $bulkKinds = @('SigKill', 'CtrlC', 'SourceRestartFast', 'SourceRestartImmediate', 'TargetRestartFast', 'TargetRestartImmediate', 'SourceCut', 'SourceReset', 'TargetCut', 'TargetReset')
        $source = Get-ProxiedUri $run Source bl_src
        $target = Get-ProxiedUri $run Target bl_dst
        $load = 0
        while ($null -ne ($kind = Get-NextFault 'BulkLoad' $bulkKinds $flowClock)) {
            $load++
            $fetch = "bl$load"
            $summary = "| Where-Object { `$_ -is [Molt.BulkLoadSummary] } | ForEach-Object { `"SUMMARY `$(`$_.Status)`" }"
            $child = Start-MoltRun $run "Start-MoltBulkLoad `$args[0] `$args[1] @common -FetchId $fetch -ExcludeTable churn -TableHandling DropAndRecreate -ShardsPerTable 4 -Force $summary" $source $target
            $faultClock = [Diagnostics.Stopwatch]::StartNew()
            $started = Wait-For $run -Seconds 180 -Child $child {
                (Get-SafeScalar $run.Target bl_dst "SELECT count(*) FROM pg_tables WHERE schemaname = '_molt' AND tablename = 'fetch_shards'") -eq 1 -and
                (Get-SafeScalar $run.Target bl_dst "SELECT count(*) FROM _molt.fetch_shards WHERE fetch_id = '$fetch' AND status = 'done'") -gt 0
            }
            $point = [Math]::Round($run.Random.NextDouble() * 1.5, 2)
            Wait-Seconds $run $point
            if (-not $started -or $child.Process.HasExited) {
                $code = Complete-MoltRun $run $child
                Add-FaultRecord $run 'BulkLoad' $kind "+${point}s after the first shard" "missed: the load ended first (exit $code)" $true 0 $faultClock.Elapsed.TotalSeconds
                continue
            }
            $null = Invoke-Fault $run $kind $child 'Postgres' $StallSeconds
            $code = Complete-MoltRun $run $child 300
            $done = $code -eq 0 -and $child.StdOut.Result -match 'SUMMARY Succeeded'
            $outcome = if ($done) { 'finished by itself' } else { "exit $code $(Get-MoltErrorId $child)" }
            $resumes = 0
            while (-not $done -and $resumes -lt 4) {
                $resumes++
                $again = Start-MoltRun $run "Get-MoltFetchStatus -Target `$args[1] -TargetCredential `$credential -FetchId $fetch | Start-MoltBulkLoad -SourceCredential `$credential -TargetCredential `$credential -LogPath `$args[2] -Resume -Force -WarningAction SilentlyContinue $summary" $source $target
                $code = Complete-MoltRun $run $again 300
                $done = $code -eq 0 -and $again.StdOut.Result -match 'SUMMARY Succeeded'
                if (-not $done) { Wait-Seconds $run 2 }
            }
            if ($resumes) { $outcome += ", resumed $resumes time(s): $(if ($done) { 'Succeeded' } else { 'NOT SUCCEEDED' })" }
            $figures.Faults++
            if ($done) { $figures.Survived++ }
            $figures.Resumes += $resumes
            Add-FaultRecord $run 'BulkLoad' $kind "+${point}s after the first shard" $outcome $done $resumes $faultClock.Elapsed.TotalSeconds
            $compare = Test-Compare $run (Get-DirectUri $run $run.Source bl_src) (Get-DirectUri $run $run.Target bl_dst) -ExcludeTable churn -Expected 4
            $digests = Test-TableDigests $run.Source bl_src $run.Target bl_dst ($pgChecks | Select-Object -First 4)
            Add-Checks 'BulkLoad' $compare $digests 0
        }
        Stop-Writer $writer
        $figures.Seconds = [int] $flowClock.Elapsed.TotalSeconds
    }

    # ---- PostgreSQL replication, with the Resume flow as its start and Failback after its cutover. ----
    if ($Flows -contains 'PgReplication' -or $Flows -contains 'Resume' -or $Flows -contains 'Failback') {
        $run.Flow = 'PgReplication'
        New-TestDatabase $run.Source rel_src
        New-TestDatabase $run.Target rel_dst
        Invoke-PgbenchInit $run.Source rel_src 3
        Invoke-TestSql $run.Source rel_src @'
ALTER TABLE pgbench_history ADD COLUMN id bigint PRIMARY KEY;
CREATE SEQUENCE rel_ids;
CREATE TABLE pgbench_audit (aid int NOT NULL, delta int NOT NULL);
ALTER TABLE pgbench_audit REPLICA IDENTITY FULL;
CREATE TABLE items (id bigint PRIMARY KEY, grp int NOT NULL, v int NOT NULL);
INSERT INTO items SELECT nextval('rel_ids'), g % 100, g FROM generate_series(1, 2000) g;
CREATE TABLE rel_markers (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
ANALYZE;
'@
        $source = Get-ProxiedUri $run Source rel_src
        $target = Get-ProxiedUri $run Target rel_dst -Timeouts $Timeouts
        $direct = Get-DirectUri $run $run.Target rel_dst
        $run.Sampler = { Get-MoltReplicationStatus -Target $direct -TargetCredential $run.Credential -FetchId rel -ErrorAction Stop | Where-Object Direction -EQ Forward }.GetNewClosure()
        $writer = Start-PgWriter $run $run.Source rel_src $pgbenchScript 40 3
        $statusLine = "| ForEach-Object { if (`$_ -is [Molt.ReplicationStatus]) { `"STATUS `$(`$_.State) `$(`$_.Transactions)`" } }"
        $resume = "Resume-MoltReplication `$args[0] `$args[1] @common -FetchId rel -StatusInterval '00:00:02' $statusLine"
        $start = "Start-MoltReplication `$args[0] `$args[1] @common -FetchId rel -TableHandling DropAndRecreate -ShardsPerTable 4 -StatusInterval '00:00:02' -Confirm:`$false $statusLine"
        $child = Start-MoltRun $run $start $source $target

        if ($Flows -contains 'Resume') {
            $run.Flow = 'Resume'
            $figures = Get-FlowFigures $run 'Resume'
            $flowClock = [Diagnostics.Stopwatch]::StartNew()
            $kind = if ($Minutes -le 0) { $plan['Resume'][0] } else { @('SigKill', 'CtrlC')[$run.Random.Next(2)] }
            $faultClock = [Diagnostics.Stopwatch]::StartNew()
            $null = Wait-For $run -Seconds 240 -Child $child {
                (Get-SafeScalar $run.Target rel_dst "SELECT count(*) FROM pg_tables WHERE schemaname = '_molt' AND tablename = 'fetch_shards'") -eq 1 -and
                (Get-SafeScalar $run.Target rel_dst "SELECT count(*) FROM _molt.fetch_shards WHERE fetch_id = 'rel' AND status = 'done'") -gt 0
            }
            # The short run's fault lands as soon as the first shard is done: on a quiet machine the load of the rest can end
            # within half a second, and a missed fault is no test.
            $point = if ($Minutes -le 0) { 0 } else { [Math]::Round($run.Random.NextDouble() * 0.5, 2) }
            Wait-Seconds $run $point
            $loadState = Get-SafeScalar $run.Target rel_dst "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'rel'"
            if ($child.Process.HasExited -or $loadState -ne 'running') {
                Add-FaultRecord $run 'Resume' $kind "+${point}s after the first shard" "missed: the load was $loadState" $true 0 0
            } else {
                $null = Invoke-Fault $run $kind $child 'Postgres' $StallSeconds
                $code = Complete-MoltRun $run $child
                $loaded = Start-MoltRun $run "Start-MoltBulkLoad `$args[0] `$args[1] @common -FetchId rel -Resume -Force | Where-Object { `$_ -is [Molt.BulkLoadSummary] } | ForEach-Object { `"SUMMARY `$(`$_.Status)`" }" $source $target
                $loadCode = Complete-MoltRun $run $loaded 300
                $ok = $loadCode -eq 0 -and $loaded.StdOut.Result -match 'SUMMARY Succeeded'
                $child = Start-MoltRun $run $resume $source $target
                Write-MarkerRow $run.Source rel_src 0
                $ok = $ok -and (Wait-For $run -Seconds 240 -Child $child { (Get-SafeScalar $run.Target rel_dst 'SELECT count(*) FROM rel_markers WHERE id = 0') -eq 1 })
                $figures.Faults++
                if ($ok) { $figures.Survived++ }
                $figures.Resumes += 2
                Add-FaultRecord $run 'Resume' $kind "+${point}s after the first shard" "exit $code; load resumed (exit $loadCode), stream resumed$(if (-not $ok) { ': NOT SURVIVED' })" $ok 2 $faultClock.Elapsed.TotalSeconds
            }
            $figures.Seconds = [int] $flowClock.Elapsed.TotalSeconds
        }

        $run.Flow = 'PgReplication'
        $figures = Get-FlowFigures $run 'PgReplication'
        $flowClock = [Diagnostics.Stopwatch]::StartNew()
        Write-MarkerRow $run.Source rel_src -1
        if (-not (Wait-For $run -Seconds 300 -Child $child { (Get-SafeScalar $run.Target rel_dst 'SELECT count(*) FROM rel_markers WHERE id = -1') -eq 1 })) {
            throw "The PostgreSQL stream did not start: $($child.StdErr.Result)"
        }
        if ($Flows -contains 'PgReplication') {
            $child = Invoke-StreamFaults -Flow PgReplication -Child $child -Resume $resume -SourceUri $source -TargetUri $target -From $run.Source -FromDb rel_src -To $run.Target -ToDb rel_dst -SourceKind Postgres -MarkerBase 0
        } else {
            $plan['PgReplication'] = [System.Collections.Generic.List[string]]::new()
        }
        # The cutover: the application stops writing, the stream drains; the keyless table needs a replica identity
        # on the target for the failback publication the stop creates.
        Stop-Writer $writer
        Invoke-TestSql $run.Target rel_dst 'ALTER TABLE pgbench_audit REPLICA IDENTITY FULL'
        $final = Stop-Stream 'PgReplication' $child (Get-DirectUri $run $run.Target rel_dst)
        $compare = Test-Compare $run (Get-DirectUri $run $run.Source rel_src) (Get-DirectUri $run $run.Target rel_dst) -Expected 7
        $digests = Test-TableDigests $run.Source rel_src $run.Target rel_dst $pgChecks
        Add-Checks 'PgReplication' $compare $digests ([long] (Get-TestScalar $run.Source rel_src 'SELECT count(*) FROM pgbench_history'))
        $figures.Seconds = [int] $flowClock.Elapsed.TotalSeconds

        if ($Flows -contains 'Failback') {
            $run.Flow = 'Failback'
            $figures = Get-FlowFigures $run 'Failback'
            $flowClock = [Diagnostics.Stopwatch]::StartNew()
            if (-not $final.FailbackSlot) { throw 'The cutover made no failback slot.' }
            Invoke-TestSql $run.Target rel_dst "CREATE SEQUENCE IF NOT EXISTS rel_ids; SELECT setval('rel_ids', 1000000000000)"
            $run.Sampler = { Get-MoltReplicationStatus -Target $direct -TargetCredential $run.Credential -FetchId rel -ErrorAction Stop | Where-Object Direction -EQ Failback }.GetNewClosure()
            $appWriter = Start-PgWriter $run $run.Target rel_dst $pgbenchScript 40 3
            $failback = "Invoke-MoltFailback `$args[0] `$args[1] @common -FetchId rel -StatusInterval '00:00:02' $statusLine"
            $child = Start-MoltRun $run $failback $source $target
            Write-MarkerRow $run.Target rel_dst -2
            if (-not (Wait-For $run -Seconds 240 -Child $child { (Get-SafeScalar $run.Source rel_src 'SELECT count(*) FROM rel_markers WHERE id = -2') -eq 1 })) {
                throw "The failback did not start: $($child.StdErr.Result)"
            }
            $child = Invoke-StreamFaults -Flow Failback -Child $child -Resume $failback -SourceUri $source -TargetUri $target -From $run.Target -FromDb rel_dst -To $run.Source -ToDb rel_src -SourceKind Postgres -MarkerBase 1000000000
            Stop-Writer $appWriter
            $null = Stop-Stream 'Failback' $child (Get-DirectUri $run $run.Target rel_dst) -Failback
            $compare = Test-Compare $run (Get-DirectUri $run $run.Source rel_src) (Get-DirectUri $run $run.Target rel_dst) -Expected 7
            $digests = Test-TableDigests $run.Target rel_dst $run.Source rel_src $pgChecks
            Add-Checks 'Failback' $compare $digests ([long] (Get-TestScalar $run.Target rel_dst 'SELECT count(*) FROM pgbench_history WHERE id >= 1000000000000'))
            $figures.Seconds = [int] $flowClock.Elapsed.TotalSeconds
        }
        $null = Remove-MoltReplication (Get-DirectUri $run $run.Source rel_src) (Get-DirectUri $run $run.Target rel_dst) -SourceCredential $run.Credential -TargetCredential $run.Credential -FetchId rel -Confirm:$false -WarningAction SilentlyContinue
    }

    # ---- MariaDB to PostgreSQL ----
    if ($Flows -contains 'MariaDbReplication') {
        $run.Flow = 'MariaDbReplication'
        $figures = Get-FlowFigures $run 'MariaDbReplication'
        $flowClock = [Diagnostics.Stopwatch]::StartNew()
        Invoke-TestSql $run.Maria '' 'CREATE DATABASE my_src'
        Invoke-TestSql $run.Maria my_src @'
CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL, note VARCHAR(60) NOT NULL);
CREATE TABLE history (id BIGINT PRIMARY KEY, aid INT NOT NULL, delta INT NOT NULL);
CREATE TABLE audit (aid INT NOT NULL, delta INT NOT NULL);
CREATE TABLE rel_markers (id BIGINT PRIMARY KEY);
INSERT INTO accounts SELECT seq, seq, concat('seed ', seq) FROM seq_1_to_20000;
'@
        New-TestDatabase $run.Target my_dst
        $source = Get-ProxiedUri $run Maria my_src
        $target = Get-ProxiedUri $run Target my_dst -Timeouts $Timeouts
        $direct = Get-DirectUri $run $run.Target my_dst
        $run.Sampler = { Get-MoltReplicationStatus -Target $direct -TargetCredential $run.Credential -FetchId rel -ErrorAction Stop | Where-Object Direction -EQ Forward }.GetNewClosure()
        $writer = Start-MariaWriter $run my_src
        $statusLine = "| ForEach-Object { if (`$_ -is [Molt.ReplicationStatus]) { `"STATUS `$(`$_.State) `$(`$_.Transactions)`" } }"
        $resume = "Resume-MoltReplication `$args[0] `$args[1] @common -FetchId rel -StatusInterval '00:00:02' $statusLine"
        $child = Start-MoltRun $run "Start-MoltReplication `$args[0] `$args[1] @common -FetchId rel -TableHandling DropAndRecreate -StatusInterval '00:00:02' -Confirm:`$false $statusLine" $source $target
        Write-MarkerRow $run.Maria my_src -1
        if (-not (Wait-For $run -Seconds 300 -Child $child { (Get-SafeScalar $run.Target my_dst 'SELECT count(*) FROM rel_markers WHERE id = -1') -eq 1 })) {
            throw "The MariaDB stream did not start: $($child.StdErr.Result)"
        }
        $child = Invoke-StreamFaults -Flow MariaDbReplication -Child $child -Resume $resume -SourceUri $source -TargetUri $target -From $run.Maria -FromDb my_src -To $run.Target -ToDb my_dst -SourceKind Maria -MarkerBase 0
        Stop-Writer $writer
        $null = Stop-Stream 'MariaDbReplication' $child $direct
        $compare = Test-Compare $run (Get-DirectUri $run $run.Maria my_src) $direct -Expected 4
        $mariaChecks = @(
            @{ Table = 'accounts'; Columns = 'id, balance, note'; Extra = 'sum(balance)'; Id = 'id' }
            @{ Table = 'history'; Columns = 'id, aid, delta'; Extra = 'sum(delta)'; Id = 'id' }
            @{ Table = 'audit'; Columns = 'aid, delta'; Extra = 'sum(delta)'; Keyless = $true }
            @{ Table = 'rel_markers'; Columns = 'id'; Extra = 'sum(id)'; Id = 'id' }
        )
        $digests = Test-TableDigests $run.Maria my_src $run.Target my_dst $mariaChecks
        Add-Checks 'MariaDbReplication' $compare $digests ([long] (Get-TestScalar $run.Maria my_src 'SELECT count(*) FROM history'))
        $figures.Seconds = [int] $flowClock.Elapsed.TotalSeconds
    }
}
finally {
    Stop-ReliabilityRun $run
}

# No output, log or error of any Molt process may show the password, in either form.
$text = ($run.Outputs -join "`n") + "`n" + (($run.Logs | Where-Object { Test-Path -LiteralPath $_ } | ForEach-Object { Get-Content -Raw -LiteralPath $_ }) -join "`n")
$leaks = @([regex]::Escape($run.Password), [regex]::Escape([uri]::EscapeDataString($run.Password)) | Where-Object { $text -match $_ }).Count

$table = @($run.Figures.Values)
$table | Export-Csv -LiteralPath (Join-Path $RunFolder 'figures.csv') -NoTypeInformation
Write-Host ''
Write-Host "figures seed=$Seed minutes=$Minutes elapsed=$([int] $clock.Elapsed.TotalSeconds)s molt_peak_rss_mb=$([Math]::Round($run.PeakRssKb / 1024, 1)) password_leaks=$leaks $(uptime)"
Write-Host ($table | Format-Table Flow, Faults, Survived, Resumes, RowsChecked, ChangesChecked, Duplicates, Differences, Seconds -AutoSize | Out-String -Width 200)
$memory = @(Get-SampleSummary $run.SamplesPath)
if ($memory) { Write-Host ($memory | Format-Table -AutoSize | Out-String -Width 200) }
[pscustomobject]@{
    Memory = $memory; Seed = $Seed; Minutes = $Minutes; Seconds = [int] $clock.Elapsed.TotalSeconds; Folder = $RunFolder
    PeakRssKb = $run.PeakRssKb; PasswordLeaks = $leaks; Figures = $table; Faults = @($run.Faults)
}
