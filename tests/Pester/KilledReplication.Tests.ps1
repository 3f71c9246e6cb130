# A replication whose pwsh is killed outright (SIGKILL: nothing of the process runs after it), as a user runs it: a child
# pwsh with $ErrorActionPreference = 'Stop' and a password holding '@' and ':', a PostgreSQL source under pgbench
# (tpcb-like) the whole time. Killed during the load, mid-batch, between the target's commit and the slot's confirm,
# and several times in a row; each time the user's next step (what the status and the errors say) is taken, and the
# end is Equal on every table with each pgbench_history row once.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:password = 'k1ll:me@now:9'
    Invoke-TestSql $pg postgres "CREATE ROLE pgkill LOGIN SUPERUSER PASSWORD '$password'"
    $script:credential = New-TestCredential pgkill $password
    $script:logs = [System.Collections.Generic.List[string]]::new()
    $script:outputs = [System.Collections.Generic.List[string]]::new()

    # A wait that times out shows what every session of the server was doing (a default that is a script block is run
    # to get the value, so this one returns the script block Wait-Until runs).
    $PSDefaultParameterValues = @{ 'Wait-Until:Seconds' = 60; 'Wait-Until:Diagnose' = { {
                Get-TestScalar $pg postgres "SELECT string_agg(concat_ws(' | ', pid, datname, application_name, state, wait_event_type, wait_event, left(query, 120)), E'\n') FROM pg_stat_activity WHERE datname IS NOT NULL AND pid <> pg_backend_pid()"
            } }
    }

    # The user's commands, each in a pwsh of its own.
    function Start-ReplicationChild([string] $Command) {
        Start-MoltRunbookChild -Command $Command -User pgkill -Password $password -Source $source -Target $target -Logs $logs
    }

    # What a user sees once the killed process's sessions are gone: the stream is not held, and not shown as running.
    function Get-SettledStatus([string] $FetchId = 'pgkill') {
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        while (($status = Get-MoltReplicationStatus -Target $target -TargetCredential $credential -FetchId $FetchId -ErrorAction Stop).State -in 'Loading', 'Streaming', 'CaughtUp', 'Draining') {
            if ([DateTime]::UtcNow -gt $deadline) { throw "The killed stream is still shown $($status.State), held by $($status.HeldBy)" }
            Start-Sleep -Milliseconds 100
        }
        $status.HeldBy | Should -BeNullOrEmpty
        $status
    }

    function Get-Checkpoint { Get-TestScalar $pg pgkill_dst "SELECT coalesce((SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'pgkill'), '0/0')" }

    $resume = "Resume-MoltReplication `$args[0] `$args[1] @common -FetchId pgkill -StatusInterval '00:00:01' | ForEach-Object { `"STATUS `$(`$_.State) `$(`$_.Transactions)`" }"

    # A lost or doubled change moves a count, a sum or a digest; the last also lists every history id once.
    $script:checks = @(
        'SELECT count(*)::text || sum(abalance)::text || md5(string_agg(aid || $$:$$ || abalance, $$,$$ ORDER BY aid)) FROM pgbench_accounts'
        'SELECT sum(tbalance)::text || md5(string_agg(tid || $$:$$ || tbalance, $$,$$ ORDER BY tid)) FROM pgbench_tellers'
        'SELECT sum(bbalance)::text || md5(string_agg(bid || $$:$$ || bbalance, $$,$$ ORDER BY bid)) FROM pgbench_branches'
        'SELECT concat_ws($$,$$, count(*), count(DISTINCT id), sum(id), md5(string_agg(concat_ws($$:$$, id, tid, bid, aid, delta), $$,$$ ORDER BY id))) FROM pgbench_history'
        'SELECT count(*)::text || md5(string_agg(aid || $$:$$ || delta, $$,$$ ORDER BY aid, delta)) FROM pgbench_audit'
    )
}

AfterAll {
    if ($script:bench -and -not $bench.Process.HasExited) { $bench.Process.Kill() }
    if ($script:pg) { $pg.Dispose() }
    foreach ($log in $script:logs) { Remove-Item -LiteralPath $log -ErrorAction SilentlyContinue }
}

Describe 'A replication killed with SIGKILL' {
    It 'is resumed after kills during the load, mid-batch, between commit and confirm and several in a row: Equal, every history row once, no password shown' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        New-TestDatabase $pg pgkill_src
        New-TestDatabase $pg pgkill_dst
        $init = Start-TestPgbench $pg pgkill_src '-i', '-s', '3', '-q'
        $init.Process.WaitForExit()
        $init.Process.ExitCode | Should -Be 0 -Because $init.StdErr.Result
        # Every replicated table needs a key; the default fills it for pgbench's own inserts.
        Invoke-TestSql $pg pgkill_src 'ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY'
        # Every key of pgbench's tables makes a change applied twice an upsert that leaves no trace, so a source trigger
        # also writes each history row into a keyless table (matched by value): there a doubled insert is an extra row.
        Invoke-TestSql $pg pgkill_src @'
CREATE TABLE pgbench_audit (aid int NOT NULL, delta int NOT NULL);
ALTER TABLE pgbench_audit REPLICA IDENTITY FULL;
CREATE FUNCTION audit_history() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO pgbench_audit VALUES (NEW.aid, NEW.delta); RETURN NULL; END $$;
CREATE TRIGGER audit_history AFTER INSERT ON pgbench_history FOR EACH ROW EXECUTE FUNCTION audit_history();
'@
        $script:source = Get-TestUri $pg pgkill_src -User pgkill
        $script:target = Get-TestUri $pg pgkill_dst -User pgkill
        $script:bench = Start-TestPgbench $pg pgkill_src '-c', '2', '-j', '1', '-R', '40', '-T', '600', '-n'

        # 1. Killed during the load: some tables' shards are done, the accounts' are not.
        $child = Start-ReplicationChild "Start-MoltReplication `$args[0] `$args[1] @common -FetchId pgkill -TableHandling DropAndRecreate -ShardsPerTable 4 -Confirm:`$false"
        Wait-Until -Seconds 90 -Child $child -What 'a table loaded while the accounts are still copied' {
            (Get-TestScalar $pg pgkill_dst "SELECT to_regclass('_molt.fetch_shards') IS NOT NULL") -and
            (Get-TestScalar $pg pgkill_dst "SELECT count(*) FROM _molt.fetch_shards WHERE fetch_id = 'pgkill' AND status = 'done'") -gt 0
        }
        Stop-MoltChildHard -Child $child -Outputs $outputs
        Get-TestScalar $pg pgkill_dst "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'pgkill'" | Should -Be 'running' -Because 'the kill must come before the load ends'
        $status = Get-SettledStatus
        $status.State | Should -Be 'Failed'
        # The status names the step that works: the load is unfinished, so the stream cannot go on from a checkpoint yet.
        $status.Error | Should -Match "Start-MoltBulkLoad -FetchId 'pgkill' -Resume"
        $status.Slot | Should -Be 'molt_pgkill'
        $refused = Complete-MoltChild -Child (Start-ReplicationChild $resume) -Outputs $outputs
        $refused.ExitCode | Should -Not -Be 0
        $refused.StdErr | Should -Match 'ReplicationLoadUnfinished|is Running: changes can only be streamed'
        $refused.StdErr | Should -Match "Start-MoltBulkLoad -FetchId 'pgkill' -Resume"
        $loaded = Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential -FetchId pgkill -Resume -Force -ErrorAction Stop -WarningAction SilentlyContinue
        ($loaded | Where-Object { $_ -is [Molt.BulkLoadSummary] }).Status | Should -Be 'Succeeded'

        # 2. Killed mid-batch: a large source transaction is being written into an open target transaction.
        $child = Start-ReplicationChild $resume
        Wait-Until -Child $child -What 'the first checkpoint' { (Get-Checkpoint) -ne '0/0' }
        $null = $pg.ExecuteAsync('pgkill_src', 'UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 60000', [Threading.CancellationToken]::None).GetAwaiter().GetResult()
        $bigCommit = Get-TestScalar $pg pgkill_src 'SELECT pg_current_wal_lsn()::text'
        Wait-Until -Child $child -What 'an open apply transaction before the large one is checkpointed' {
            (Get-TestScalar $pg postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'pgkill_dst' AND application_name LIKE 'molt%' AND backend_xid IS NOT NULL AND state <> 'idle'") -gt 0 -and
            (Get-TestScalar $pg pgkill_dst "SELECT position::pg_lsn < '$bigCommit'::pg_lsn FROM _molt.replication_checkpoints WHERE fetch_id = 'pgkill'")
        }
        Stop-MoltChildHard -Child $child -Outputs $outputs
        (Get-SettledStatus).State | Should -Be 'Failed'
        Get-TestScalar $pg pgkill_dst "SELECT position::pg_lsn < '$bigCommit'::pg_lsn FROM _molt.replication_checkpoints WHERE fetch_id = 'pgkill'" |
            Should -BeTrue -Because 'the large transaction was killed before its commit on the target'

        # 3. Killed after a checkpoint's commit on the target and before the slot's confirmed_flush_lsn moved: a window of
        # well under a millisecond, so one open connection polls both in one statement and the kill is a syscall away.
        $poll = [Npgsql.NpgsqlConnection]::new($pg.ConnectionString('pgkill_dst'))
        $poll.Open()
        $caught = 0
        for ($attempt = 1; $attempt -le 8 -and $caught -eq 0; $attempt++) {
            $child = Start-ReplicationChild $resume
            Wait-Until -Child $child -What 'the resumed stream reading the slot' { Get-TestScalar $pg postgres "SELECT active FROM pg_replication_slots WHERE slot_name = 'molt_pgkill'" }
            $probe = $poll.CreateCommand()
            $probe.CommandText = "SELECT c.position::pg_lsn > s.confirmed_flush_lsn AND c.position::pg_lsn > '$(Get-Checkpoint)'::pg_lsn " +
                "FROM _molt.replication_checkpoints c, pg_replication_slots s WHERE c.fetch_id = 'pgkill' AND s.slot_name = 'molt_pgkill' AND s.active"
            $probe.Prepare()
            $null = Stop-MoltChildWhen -Child $child -Condition { $probe.ExecuteScalar() } -Outputs $outputs
            # The kill landed in the window if the slot is still behind the checkpoint once the dead stream's session is gone.
            Wait-Until -What 'the slot released' { -not (Get-TestScalar $pg postgres "SELECT active FROM pg_replication_slots WHERE slot_name = 'molt_pgkill'") }
            if (Get-TestScalar $pg pgkill_dst "SELECT (SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'molt_pgkill') < position::pg_lsn FROM _molt.replication_checkpoints WHERE fetch_id = 'pgkill'") {
                $caught = $attempt
            }
        }
        $poll.Dispose()
        $caught | Should -BeGreaterThan 0 -Because 'a kill must land between a checkpoint commit and the confirm'
        (Get-SettledStatus).State | Should -Be 'Failed'

        # 4. Several kills in a row, each soon after its Resume began streaming, with no pause for the server to notice.
        for ($kill = 1; $kill -le 3; $kill++) {
            $before = Get-Checkpoint
            $child = Start-ReplicationChild $resume
            Wait-Until -Child $child -What "kill ${kill}: a new checkpoint" { (Get-Checkpoint) -ne $before }
            Stop-MoltChildHard -Child $child -Outputs $outputs
        }

        # 5. The last Resume runs until the writes stop and Stop-MoltReplication (from this session) drains it.
        $child = Start-ReplicationChild $resume
        Wait-Until -Child $child -What 'the last Resume streaming' { (Get-MoltReplicationStatus -Target $target -TargetCredential $credential -FetchId pgkill).HeldBy }
        Start-Sleep -Seconds 2
        $bench.Process.Kill()
        $bench.Process.WaitForExit()
        $final = Stop-MoltReplication -Target $target -TargetCredential $credential -FetchId pgkill -Timeout '00:01:00' -WarningAction SilentlyContinue -ErrorAction Stop
        $final.State | Should -Be 'Stopped'
        $last = Complete-MoltChild -Child $child -Outputs $outputs
        $last.ExitCode | Should -Be 0 -Because $last.StdErr
        $last.StdOut | Should -Match 'STATUS Stopped'

        $comparison = Compare-MoltData $source $target -SourceCredential $credential -TargetCredential $credential -ErrorAction Stop
        @($comparison).Count | Should -Be 5
        $comparison | ForEach-Object { $_.Status | Should -Be 'Equal' -Because "$($_.Table) must be identical on the target" }
        foreach ($check in $checks) {
            Get-TestScalar $pg pgkill_dst $check | Should -Be (Get-TestScalar $pg pgkill_src $check) -Because $check
        }
        Get-TestScalar $pg pgkill_src 'SELECT count(*) FROM pgbench_history' | Should -BeGreaterThan 0
        Get-TestScalar $pg pgkill_dst 'SELECT count(*) FROM pgbench_audit' | Should -Be (Get-TestScalar $pg pgkill_src 'SELECT count(*) FROM pgbench_history')

        $text = ($outputs -join "`n") + ($logs | Where-Object { Test-Path -LiteralPath $_ } | ForEach-Object { Get-Content -Raw -LiteralPath $_ }) -join "`n"
        $text | Should -Not -Match ([regex]::Escape($password))
        $text | Should -Not -Match ([regex]::Escape([uri]::EscapeDataString($password)))
        Write-Host "killed replication: $($final.Transactions) transactions streamed, commit/confirm window caught on attempt $caught, $([int] $clock.Elapsed.TotalSeconds) s"
    }

    It 'killed during its load, is removed by Remove-MoltReplication in a new pwsh: slot and publication dropped, the stream shown ended' {
        New-TestDatabase $pg dropped_src
        New-TestDatabase $pg dropped_dst
        Invoke-TestSql $pg dropped_src @'
CREATE TABLE small (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO small SELECT g, 's' || g FROM generate_series(1, 100) g;
CREATE TABLE large (id bigint PRIMARY KEY, payload text NOT NULL);
INSERT INTO large SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 400000) g;
ANALYZE;
'@
        $script:source = Get-TestUri $pg dropped_src -User pgkill
        $script:target = Get-TestUri $pg dropped_dst -User pgkill
        $child = Start-ReplicationChild "Start-MoltReplication `$args[0] `$args[1] @common -FetchId dropped -TableHandling DropAndRecreate -ShardsPerTable 4 -Confirm:`$false"
        Wait-Until -Seconds 90 -Child $child -What 'the small table loaded while the large one is still copied' {
            (Get-TestScalar $pg dropped_dst "SELECT to_regclass('_molt.fetch_shards') IS NOT NULL") -and
            (Get-TestScalar $pg dropped_dst "SELECT count(*) FROM _molt.fetch_shards WHERE fetch_id = 'dropped' AND status = 'done'") -gt 0
        }
        Stop-MoltChildHard -Child $child -Outputs $outputs
        Get-TestScalar $pg dropped_dst "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'dropped'" | Should -Be 'running' -Because 'the kill must come before the load ends'
        $slots = "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'molt_dropped'"
        Get-TestScalar $pg postgres $slots | Should -Be 1
        $killed = Get-SettledStatus dropped
        $killed.State | Should -Be 'Failed'
        $killed.Error | Should -Match 'Remove-MoltReplication to drop the slot'

        # The user's other way on, as the status says: drop what the stream keeps on the source, at once after the kill.
        $removed = Complete-MoltChild -Outputs $outputs -Child (Start-ReplicationChild "Remove-MoltReplication `$args[0] `$args[1] @common -FetchId dropped -Confirm:`$false | ForEach-Object { `"REMOVED `$(`$_.State)`" }")
        $removed.ExitCode | Should -Be 0 -Because $removed.StdErr
        $removed.StdErr | Should -BeNullOrEmpty
        Get-TestScalar $pg postgres $slots | Should -Be 0
        Get-TestScalar $pg dropped_src 'SELECT count(*) FROM pg_publication' | Should -Be 0
        $status = Get-MoltReplicationStatus -Target $target -TargetCredential $credential -FetchId dropped -ErrorAction Stop
        $status.State | Should -Be 'Stopped'
        $status.HeldBy | Should -BeNullOrEmpty
        $status.Slot | Should -BeNullOrEmpty
        ($outputs -join "`n") | Should -Not -Match ([regex]::Escape($password))
    }
}
