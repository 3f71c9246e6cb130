# A failback whose pwsh is killed outright (SIGKILL), as a user runs it: a child pwsh with $ErrorActionPreference =
# 'Stop' and a password holding '@' and ':', a pgbench database migrated with replication and cut over, and an
# application writing to the target the whole time. Killed mid-batch and between the original's checkpoint commit and
# the target slot's confirm; each time Invoke-MoltFailback is run again and goes on from the checkpoint on the original.
# The end is Equal on every table, each history row once (a keyless audit table shows a doubled insert), no password
# shown. Test-MoltConnection -For Failback -FetchId checks the same target before and after the cutover.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:password = 'fa1l:back@now:7'
    Invoke-TestSql $pg postgres "CREATE ROLE fbkill LOGIN SUPERUSER PASSWORD '$password'"
    $script:credential = New-TestCredential fbkill $password
    $script:common = @{ SourceCredential = $credential; TargetCredential = $credential }
    $script:logs = [System.Collections.Generic.List[string]]::new()
    $script:outputs = [System.Collections.Generic.List[string]]::new()
    $script:writerScript = Join-Path ([IO.Path]::GetTempPath()) "molt-fbkill-writer-$PID.sql"

    # The application after the cutover: pgbench's tpcb-like transaction with a history id from a target sequence
    # of its own, and the same row in the keyless audit table.
    Set-Content -LiteralPath $writerScript -Value @'
\set aid random(1, 100000)
\set tid random(1, 10)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = 1;
INSERT INTO pgbench_history (id, tid, bid, aid, delta, mtime) VALUES (nextval('app_history_ids'), :tid, 1, :aid, :delta, CURRENT_TIMESTAMP);
INSERT INTO pgbench_audit VALUES (:aid, :delta);
END;
'@

    function Start-FailbackChild {
        $command = "Invoke-MoltFailback `$args[0] `$args[1] @common -FetchId fbkill -StatusInterval '00:00:01' | ForEach-Object { `"STATUS `$(`$_.State) `$(`$_.Changes)`" }"
        Start-MoltRunbookChild -Command $command -User fbkill -Password $password -Source $source -Target $target -Logs $logs
    }

    # What a user sees once the killed process's sessions are gone: failback not held, and not shown as running.
    function Get-SettledFailback {
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        while (($status = Get-MoltReplicationStatus -Target $target -TargetCredential $credential -FetchId fbkill -ErrorAction Stop |
                    Where-Object Direction -EQ Failback).State -in 'Streaming', 'CaughtUp', 'Draining') {
            if ([DateTime]::UtcNow -gt $deadline) { throw "The killed failback is still shown $($status.State), held by $($status.HeldBy)" }
            Start-Sleep -Milliseconds 100
        }
        $status.HeldBy | Should -BeNullOrEmpty
        $status
    }

    # Failback's checkpoint, on the original source.
    function Get-Checkpoint {
        if (Get-TestScalar $pg fbkill_src "SELECT to_regclass('_molt.replication_checkpoints') IS NULL") { return '0/0' }
        Get-TestScalar $pg fbkill_src "SELECT coalesce((SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'fbkill'), '0/0')"
    }

    $script:checks = @(
        'SELECT count(*)::text || sum(abalance)::text || md5(string_agg(aid || $$:$$ || abalance, $$,$$ ORDER BY aid)) FROM pgbench_accounts'
        'SELECT sum(tbalance)::text || md5(string_agg(tid || $$:$$ || tbalance, $$,$$ ORDER BY tid)) FROM pgbench_tellers'
        'SELECT sum(bbalance)::text || md5(string_agg(bid || $$:$$ || bbalance, $$,$$ ORDER BY bid)) FROM pgbench_branches'
        'SELECT concat_ws($$,$$, count(*), count(DISTINCT id), sum(id), md5(string_agg(concat_ws($$:$$, id, tid, bid, aid, delta), $$,$$ ORDER BY id))) FROM pgbench_history'
        'SELECT count(*)::text || md5(string_agg(aid || $$:$$ || delta, $$,$$ ORDER BY aid, delta)) FROM pgbench_audit'
    )
}

AfterAll {
    if ($script:writer -and -not $writer.Process.HasExited) { $writer.Process.Kill() }
    if ($script:pg) { $pg.Dispose() }
    foreach ($log in $script:logs) { Remove-Item -LiteralPath $log -ErrorAction SilentlyContinue }
    Remove-Item -LiteralPath $script:writerScript -ErrorAction SilentlyContinue
}

Describe 'A failback killed with SIGKILL' {
    It 'is checked by Test-MoltConnection -For Failback -FetchId, and run again after kills mid-batch and between commit and confirm: Equal, every history row once, no password shown' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        New-TestDatabase $pg fbkill_src
        New-TestDatabase $pg fbkill_dst
        $init = Start-TestPgbench $pg fbkill_src '-i', '-s', '1', '-q'
        $init.Process.WaitForExit()
        $init.Process.ExitCode | Should -Be 0 -Because $init.StdErr.Result
        Invoke-TestSql $pg fbkill_src @'
ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY;
CREATE TABLE pgbench_audit (aid int NOT NULL, delta int NOT NULL);
ALTER TABLE pgbench_audit REPLICA IDENTITY FULL;
'@
        $script:source = Get-TestUri $pg fbkill_src -User fbkill
        $script:target = Get-TestUri $pg fbkill_dst -User fbkill

        $job = Start-MoltReplication $source $target @common -FetchId fbkill -TableHandling DropAndRecreate -StatusInterval '00:00:01' -AsJob -Confirm:$false
        Wait-Until -What 'forward replication streaming' {
            (Get-MoltReplicationStatus -Target $target -TargetCredential $credential -FetchId fbkill -ErrorAction SilentlyContinue).State -in 'Streaming', 'CaughtUp'
        }
        # Before the cutover, the target is ready for failback but failback of fbkill cannot start yet.
        $before = Test-MoltConnection $source $target @common -For Failback -FetchId fbkill -ErrorAction Stop | Where-Object Role -EQ Target
        ($before | Where-Object Check -EQ WalLevel).Passed | Should -BeTrue
        ($before | Where-Object Check -EQ ReplicationSlots).Passed | Should -BeTrue
        ($before | Where-Object Check -EQ ReplicationPrivilege).Passed | Should -BeTrue
        $start = $before | Where-Object Check -EQ FailbackStart
        $start.Passed | Should -BeFalse
        $start.Detail | Should -Match "replication 'fbkill' is (Streaming|CaughtUp), not stopped"
        $start.Remedy | Should -Match 'Stop-MoltReplication'
        $slot = $before | Where-Object Check -EQ FailbackSlot
        $slot.Passed | Should -BeFalse
        $slot.Detail | Should -Match "no logical replication slot 'moltfb_fbkill'"

        # The application's table without a key needs a replica identity on the target too, for the failback publication.
        Invoke-TestSql $pg fbkill_dst 'ALTER TABLE pgbench_audit REPLICA IDENTITY FULL; CREATE SEQUENCE app_history_ids START 1000000'
        $stop = Stop-MoltReplication -Target $target -TargetCredential $credential -FetchId fbkill -WarningAction SilentlyContinue -ErrorAction Stop
        $stop.FailbackSlot | Should -Be 'moltfb_fbkill'
        $job | Wait-Job -Timeout 60 | Out-Null
        Remove-Job $job -Force

        $after = Test-MoltConnection $source $target @common -For Failback -FetchId fbkill -ErrorAction Stop
        $after | ForEach-Object { $_.Passed | Should -BeTrue -Because "$($_.Role) $($_.Check): $($_.Detail)" }
        # The original is written into, with failback's checkpoint in its _molt.
        ($after | Where-Object Role -EQ Source).Check | Should -Be @('Connection', 'ServerVersion', 'Writable', 'StateSchema') -Because 'the source is checked as written into'

        ($after | Where-Object Check -EQ FailbackSlot).Detail | Should -Match "slot 'moltfb_fbkill' \(pgoutput\) holds the target's changes"
        $refused = $null
        try { Test-MoltConnection $source $target @common -For Replication -FetchId fbkill -ErrorAction Stop } catch { $refused = $_ }
        $refused.FullyQualifiedErrorId | Should -BeLike 'FetchIdNeedsFailback,*'

        $script:writer = Start-TestPgbench $pg fbkill_dst '-c', '2', '-j', '1', '-R', '40', '-T', '600', '-n', '-f', $writerScript

        # 1. Killed mid-batch: a large target transaction is being written into an open transaction on the original.
        $child = Start-FailbackChild
        Wait-Until -Child $child -What 'the first checkpoint on the original' { (Get-Checkpoint) -ne '0/0' }
        Invoke-TestSql $pg fbkill_dst 'UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 25000'
        $bigCommit = Get-TestScalar $pg fbkill_dst 'SELECT pg_current_wal_lsn()::text'
        Wait-Until -Child $child -What 'an open apply transaction on the original before the large one is checkpointed' {
            (Get-TestScalar $pg postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'fbkill_src' AND application_name LIKE 'molt%' AND backend_xid IS NOT NULL AND state <> 'idle'") -gt 0 -and
            (Get-TestScalar $pg fbkill_src "SELECT position::pg_lsn < '$bigCommit'::pg_lsn FROM _molt.replication_checkpoints WHERE fetch_id = 'fbkill'")
        }
        Stop-MoltChildHard -Child $child -Outputs $outputs
        (Get-SettledFailback).State | Should -Be 'Failed'
        Get-TestScalar $pg fbkill_src "SELECT position::pg_lsn < '$bigCommit'::pg_lsn FROM _molt.replication_checkpoints WHERE fetch_id = 'fbkill'" |
            Should -BeTrue -Because 'the large transaction was killed before its commit on the original'

        # 2. Killed after a checkpoint's commit on the original and before the target slot's confirmed_flush_lsn moved.
        # pg_replication_slots is the server's, so one statement on the original's database sees both.
        $poll = [Npgsql.NpgsqlConnection]::new($pg.ConnectionString('fbkill_src'))
        $poll.Open()
        $caught = 0
        for ($attempt = 1; $attempt -le 8 -and $caught -eq 0; $attempt++) {
            $child = Start-FailbackChild
            Wait-Until -Child $child -What 'the failback reading its slot' { Get-TestScalar $pg postgres "SELECT active FROM pg_replication_slots WHERE slot_name = 'moltfb_fbkill'" }
            $probe = $poll.CreateCommand()
            $probe.CommandText = "SELECT c.position::pg_lsn > s.confirmed_flush_lsn AND c.position::pg_lsn > '$(Get-Checkpoint)'::pg_lsn " +
                "FROM _molt.replication_checkpoints c, pg_replication_slots s WHERE c.fetch_id = 'fbkill' AND s.slot_name = 'moltfb_fbkill' AND s.active"
            $probe.Prepare()
            $null = Stop-MoltChildWhen -Child $child -Condition { $probe.ExecuteScalar() } -Outputs $outputs
            Wait-Until -What 'the slot released' { -not (Get-TestScalar $pg postgres "SELECT active FROM pg_replication_slots WHERE slot_name = 'moltfb_fbkill'") }
            if (Get-TestScalar $pg fbkill_src "SELECT (SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'moltfb_fbkill') < position::pg_lsn FROM _molt.replication_checkpoints WHERE fetch_id = 'fbkill'") {
                $caught = $attempt
            }
        }
        $poll.Dispose()
        $caught | Should -BeGreaterThan 0 -Because 'a kill must land between a checkpoint commit and the confirm'
        (Get-SettledFailback).State | Should -Be 'Failed'

        # 3. The last run goes on until the application stops and Stop-MoltReplication -Failback drains it.
        $child = Start-FailbackChild
        Wait-Until -Child $child -What 'the last failback streaming' {
            (Get-MoltReplicationStatus -Target $target -TargetCredential $credential -FetchId fbkill | Where-Object Direction -EQ Failback).HeldBy
        }
        Start-Sleep -Seconds 2
        $writer.Process.Kill()
        $writer.Process.WaitForExit()
        $final = Stop-MoltReplication -Target $target -TargetCredential $credential -FetchId fbkill -Failback -Timeout '00:01:30' -WarningAction SilentlyContinue -ErrorAction Stop
        $final.State | Should -Be 'Stopped'
        if (-not $child.Process.WaitForExit(60000)) { $child.Process.Kill(); throw 'the last failback did not end within 60 s' }
        $outputs.Add($child.StdOut.Result + $child.StdErr.Result)
        $child.Process.ExitCode | Should -Be 0 -Because $child.StdErr.Result
        $child.StdOut.Result | Should -Match 'STATUS Stopped'

        $comparison = Compare-MoltData $source $target @common -ErrorAction Stop
        @($comparison).Count | Should -Be 5
        $comparison | ForEach-Object { $_.Status | Should -Be 'Equal' -Because "$($_.Table) must be identical in the original" }
        foreach ($check in $checks) {
            Get-TestScalar $pg fbkill_src $check | Should -Be (Get-TestScalar $pg fbkill_dst $check) -Because $check
        }
        $written = Get-TestScalar $pg fbkill_dst 'SELECT count(*) FROM pgbench_history WHERE id >= 1000000'
        $written | Should -BeGreaterThan 0
        Get-TestScalar $pg fbkill_src 'SELECT count(*) FROM pgbench_audit' | Should -Be $written

        $text = ($outputs -join "`n") + ($logs | Where-Object { Test-Path -LiteralPath $_ } | ForEach-Object { Get-Content -Raw -LiteralPath $_ }) -join "`n"
        $text | Should -Not -Match ([regex]::Escape($password))
        $text | Should -Not -Match ([regex]::Escape([uri]::EscapeDataString($password)))
        Write-Host "killed failback: $($final.Changes) changes failed back, commit/confirm window caught on attempt $caught, $([int] $clock.Elapsed.TotalSeconds) s"
        $null = Remove-MoltReplication $source $target @common -FetchId fbkill -Confirm:$false
    }
}
