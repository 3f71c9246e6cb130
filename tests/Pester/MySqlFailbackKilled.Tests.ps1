# A failback into MariaDB whose pwsh is killed outright (SIGKILL), as a user runs it: a child pwsh with
# $ErrorActionPreference = 'Stop' and a password holding '@' and ':', a MariaDB database migrated into PostgreSQL with
# replication and cut over, and an application writing to PostgreSQL the whole time. Killed mid-batch and between the
# checkpoint's commit on MariaDB and the PostgreSQL slot's confirm; each time Invoke-MoltFailback is run again and goes on
# from the checkpoint on the original. The end is Equal on every table; MariaDB triggers (into a database of their own)
# show each history row inserted once and never again, each account update applied once; no password shown.
# Both windows are held open from outside rather than hit by timing: mid-batch, a MariaDB session holds a table lock on
# the one table only the large transaction writes, and last, so its apply is seen waiting there with the rest of it
# written, and killed; between commit and confirm, the failback reads its slot through a TcpFaultProxy that, from a
# moment on, throws away what Molt sends on that connection, so no confirm after it reaches the walsender while the
# changes still stream in and are committed on MariaDB.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:maria = Start-TestMariaDb
    $script:pg = Start-TestPostgres
    $script:password = 'my:fail@back:5'
    Wait-Task ($maria.CreateUserAsync('myfbkill', $password, 'ALL PRIVILEGES ON *.*'))
    Invoke-TestSql $pg postgres "CREATE ROLE myfbkill LOGIN SUPERUSER PASSWORD '$password'"
    $script:credential = New-TestCredential myfbkill $password
    $script:common = @{ SourceCredential = $credential; TargetCredential = $credential }
    $script:logs = [System.Collections.Generic.List[string]]::new()
    $script:outputs = [System.Collections.Generic.List[string]]::new()
    $script:writerScript = Join-Path ([IO.Path]::GetTempPath()) "molt-myfbkill-writer-$PID.sql"

    # The application after the cutover: an account update and a history row with an id from a target sequence. The
    # delta is never 0: an upsert that changes nothing fires no AFTER UPDATE trigger, which would miscount an applied update.
    Set-Content -LiteralPath $writerScript -Value @'
\set aid random(1, 20000)
\set delta random(1, 5000)
BEGIN;
UPDATE accounts SET balance = balance + :delta WHERE id = :aid;
INSERT INTO history (id, aid, delta) VALUES (nextval('app_history_ids'), :aid, :delta);
END;
'@

    # -Through: the target's address the child uses instead (a proxy's); the test's own checks go to the server.
    function Start-FailbackChild([string] $Through = $target) {
        $command = "Invoke-MoltFailback `$args[0] `$args[1] @common -FetchId myfbkill -StatusInterval '00:00:01' | ForEach-Object { `"STATUS `$(`$_.State) `$(`$_.Changes)`" }"
        Start-MoltRunbookChild -Command $command -User myfbkill -Password $password -Source $source -Target $Through -Logs $logs
    }

    function Test-SlotActive { Get-TestScalar $pg postgres "SELECT active FROM pg_replication_slots WHERE slot_name = 'moltfb_myfbkill'" }

    # A session of the test's own on MariaDB, for a lock held as long as the test needs.
    function Open-MariaDbSession {
        $session = [MySqlConnector.MySqlConnection]::new($maria.ConnectionString('myfbkill_src'))
        $session.Open()
        $session
    }

    function Get-MariaDbSessions {
        Get-TestScalar $maria '' "SELECT GROUP_CONCAT(CONCAT_WS(' ', ID, USER, COMMAND, TIME, STATE, LEFT(INFO, 60)) SEPARATOR ' | ') FROM information_schema.PROCESSLIST"
    }

    function Invoke-SessionSql($Session, [string] $Sql) {
        $command = $Session.CreateCommand()
        $command.CommandText = $Sql
        $command.ExecuteScalar()
    }

    # What a user sees once the killed process's sessions are gone: failback not held, and shown failed.
    function Get-SettledFailback {
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        while (($status = Get-MoltReplicationStatus -Target $target -TargetCredential $credential -FetchId myfbkill -ErrorAction Stop |
                    Where-Object Direction -EQ Failback).State -in 'Streaming', 'CaughtUp', 'Draining') {
            if ([DateTime]::UtcNow -gt $deadline) { throw "The killed failback is still shown $($status.State), held by $($status.HeldBy)" }
            Start-Sleep -Milliseconds 100
        }
        $status.HeldBy | Should -BeNullOrEmpty
        $status
    }

    # Failback's checkpoint on MariaDB: the target's LSN it has applied up to.
    function Get-Checkpoint {
        if (-not (Get-TestScalar $maria '' "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_molt' AND TABLE_NAME = 'replication_checkpoints'")) { return '0/0' }
        [string] (Get-TestScalar $maria '' "SELECT COALESCE((SELECT position FROM ``_molt``.replication_checkpoints WHERE fetch_id = 'myfbkill'), '0/0')")
    }

    function Test-LsnBefore([string] $Lsn, [string] $Than) { Get-TestScalar $pg postgres "SELECT '$Lsn'::pg_lsn < '$Than'::pg_lsn" }

    function Get-SlotConfirmed { [string] (Get-TestScalar $pg postgres "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'moltfb_myfbkill'") }

    # Each row's md5 summed, with the count and a sum: a lost or doubled change moves one of them.
    $script:checks = @(
        @{ Table = 'accounts'; Columns = 'id, balance'; Extra = 'sum(balance)' }
        @{ Table = 'history'; Columns = 'id, aid, delta'; Extra = 'count(DISTINCT id)' }
    )
    function Get-Digest($Server, [string] $Database, $Check) {
        $hash = if ($Server -is [Molt.Testing.PostgresServer]) {
            "sum(('x' || left(md5(concat_ws(',', $($Check.Columns))), 8))::bit(32)::bigint)"
        } else {
            "sum(CAST(conv(left(md5(concat_ws(',', $($Check.Columns))), 8), 16, 10) AS UNSIGNED))"
        }
        [string] (Get-TestScalar $Server $Database "SELECT concat_ws(' ', count(*), $($Check.Extra), $hash) FROM $($Check.Table)")
    }
}

AfterAll {
    if ($script:writer -and -not $writer.Process.HasExited) { $writer.Process.Kill() }
    if ($script:blocker) { $blocker.Dispose() }
    if ($script:proxy) { Wait-Task ($proxy.DisposeAsync().AsTask()) }
    if ($script:maria) { $maria.Dispose() }
    if ($script:pg) { $pg.Dispose() }
    foreach ($log in $script:logs) { Remove-Item -LiteralPath $log -ErrorAction SilentlyContinue }
    Remove-Item -LiteralPath $script:writerScript -ErrorAction SilentlyContinue
}

Describe 'A failback into MariaDB killed with SIGKILL' {
    It 'is run again after kills mid-batch and between the checkpoint commit on MariaDB and the slot confirm: Equal, every change applied once, no password shown' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Invoke-TestSql $maria '' 'CREATE DATABASE myfbkill_src; CREATE DATABASE myfbkill_audit'
        Invoke-TestSql $maria myfbkill_src @'
CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL);
CREATE TABLE history (id BIGINT PRIMARY KEY, aid INT NOT NULL, delta INT NOT NULL);
CREATE TABLE totals (id INT PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO totals VALUES (1, 0);
INSERT INTO accounts SELECT seq, seq FROM seq_1_to_20000;
'@
        New-TestDatabase $pg myfbkill_dst
        $script:source = Get-TestUri $maria myfbkill_src -User myfbkill
        $script:target = Get-TestUri $pg myfbkill_dst -User myfbkill

        $job = Start-MoltReplication $source $target @common -FetchId myfbkill -TableHandling DropAndRecreate -StatusInterval '00:00:01' -AsJob -Confirm:$false
        Wait-Until -What 'forward replication streaming' {
            (Get-MoltReplicationStatus -Target $target -TargetCredential $credential -FetchId myfbkill -ErrorAction SilentlyContinue).State -in 'Streaming', 'CaughtUp'
        }
        $stop = Stop-MoltReplication -Target $target -TargetCredential $credential -FetchId myfbkill -WarningAction SilentlyContinue -ErrorAction Stop
        $stop.FailbackSlot | Should -Be 'moltfb_myfbkill'
        $job | Wait-Job -Timeout 60 | Out-Null
        Remove-Job $job -Force

        # What failback writes into MariaDB, counted by triggers in the same transaction (rolled back with a killed batch).
        Invoke-TestSql $maria myfbkill_src @'
CREATE TABLE myfbkill_audit.applied (n INT AUTO_INCREMENT PRIMARY KEY, tbl VARCHAR(10) NOT NULL, id BIGINT NOT NULL, kind CHAR(1) NOT NULL);
CREATE TRIGGER history_inserted AFTER INSERT ON history FOR EACH ROW INSERT INTO myfbkill_audit.applied (tbl, id, kind) VALUES ('history', NEW.id, 'i');
CREATE TRIGGER history_updated AFTER UPDATE ON history FOR EACH ROW INSERT INTO myfbkill_audit.applied (tbl, id, kind) VALUES ('history', NEW.id, 'u');
CREATE TRIGGER accounts_updated AFTER UPDATE ON accounts FOR EACH ROW INSERT INTO myfbkill_audit.applied (tbl, id, kind) VALUES ('accounts', NEW.id, 'u');
'@
        Invoke-TestSql $pg myfbkill_dst 'CREATE SEQUENCE app_history_ids START 1000000'
        $script:writer = Start-TestPgbench $pg myfbkill_dst '-c', '2', '-j', '1', '-R', '40', '-T', '600', '-n', '-f', $writerScript

        # 1. Killed mid-batch: a large target transaction is being written into an open transaction on MariaDB. Its last
        # change is to totals, which nothing else writes: a session holding totals locked keeps the apply open there (the
        # 15000 account rows come before it in commit order, in the same MariaDB transaction) for as long as the test needs.
        # The wait is a metadata lock, which the processlist shows as it happens (a row lock's wait in INNODB_TRX was
        # missed in one run of five).
        $child = Start-FailbackChild
        Wait-Until -Child $child -What 'the first checkpoint on MariaDB' { (Get-Checkpoint) -ne '0/0' }
        $script:blocker = Open-MariaDbSession
        $null = Invoke-SessionSql $blocker 'LOCK TABLES totals WRITE'
        Invoke-TestSql $pg myfbkill_dst 'BEGIN; UPDATE accounts SET balance = balance + 1 WHERE id <= 15000; UPDATE totals SET n = n + 1; COMMIT'
        $bigCommit = [string] (Get-TestScalar $pg myfbkill_dst 'SELECT pg_current_wal_lsn()::text')
        Wait-Until -Child $child -What "failback's apply of the large transaction waiting for totals on MariaDB" {
            (Get-TestScalar $maria '' "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'myfbkill' AND STATE = 'Waiting for table metadata lock' AND INFO LIKE '%totals%'") -gt 0
        } -Diagnose { Get-MariaDbSessions }
        Test-LsnBefore (Get-Checkpoint) $bigCommit | Should -BeTrue -Because 'the large transaction is still waiting for totals'
        Stop-MoltChildHard -Child $child -Outputs $outputs
        # Released only now: the dead process's statement then ends, and its transaction, never committed, is rolled back.
        $null = Invoke-SessionSql $blocker 'UNLOCK TABLES'
        $blocker.Dispose()
        $script:blocker = $null
        (Get-SettledFailback).State | Should -Be 'Failed'
        # Its session ends once the rollback of its 15000 rows and their audit rows is done, which a busy machine makes slow.
        Wait-Until -Seconds 300 -What "the killed apply's session gone from MariaDB" {
            (Get-TestScalar $maria '' "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'myfbkill'") -eq 0
        } -Diagnose { Get-MariaDbSessions }
        Test-LsnBefore (Get-Checkpoint) $bigCommit | Should -BeTrue -Because 'the large transaction was killed before its commit on MariaDB'

        # 2. Killed after a checkpoint's commit on MariaDB and before the slot's confirm: the failback reads its slot through
        # a proxy, which from the cut on throws away what Molt sends on the replication connection. A checkpoint committed
        # after the cut was then confirmed, if at all, into the void: the slot stays behind it after the kill.
        Wait-Until -What 'the slot released by the killed failback' { -not (Test-SlotActive) }
        $confirmedBefore = Get-SlotConfirmed
        $script:proxy = [Molt.Testing.TcpFaultProxy]::Start($pg.Host, $pg.Port)
        $child = Start-FailbackChild "postgres://myfbkill@$($proxy.Host):$($proxy.Port)/myfbkill_dst?sslmode=disable"
        # Until then confirms pass the proxy: the slot moves, so what holds it after the cut is the cut.
        Wait-Until -Child $child -What 'a confirm through the proxy' { (Test-SlotActive) -and (Test-LsnBefore $confirmedBefore (Get-SlotConfirmed)) }
        $port = Get-TestScalar $pg postgres "SELECT a.client_port FROM pg_replication_slots s JOIN pg_stat_activity a ON a.pid = s.active_pid WHERE s.slot_name = 'moltfb_myfbkill'"
        $proxy.DiscardFromClient($port) | Should -BeTrue -Because "the slot's walsender must be the proxy's connection"
        $cut = Get-Checkpoint
        Wait-Until -Child $child -What 'a checkpoint committed on MariaDB after the cut' { Test-LsnBefore $cut (Get-Checkpoint) }
        Test-LsnBefore (Get-SlotConfirmed) (Get-Checkpoint) | Should -BeTrue -Because 'no confirm sent after the cut reaches the slot'
        Stop-MoltChildHard -Child $child -Outputs $outputs
        Wait-Until -What 'the slot released' { -not (Test-SlotActive) }
        $proxy.BytesDiscarded | Should -BeGreaterThan 0
        $behind = "checkpoint $(Get-Checkpoint), slot $(Get-SlotConfirmed)"
        Test-LsnBefore (Get-SlotConfirmed) (Get-Checkpoint) | Should -BeTrue -Because 'the kill came between a checkpoint commit on MariaDB and its confirm'
        Wait-Task ($proxy.DisposeAsync().AsTask())
        $script:proxy = $null
        (Get-SettledFailback).State | Should -Be 'Failed'

        # 3. The last run goes on until the application stops and Stop-MoltReplication -Failback drains it.
        $child = Start-FailbackChild
        Wait-Until -Child $child -What 'the last failback streaming' {
            (Get-MoltReplicationStatus -Target $target -TargetCredential $credential -FetchId myfbkill | Where-Object Direction -EQ Failback).HeldBy
        }
        Start-Sleep -Seconds 2
        $writer.Process.Kill()
        $writer.Process.WaitForExit()
        $final = Stop-MoltReplication -Target $target -TargetCredential $credential -FetchId myfbkill -Failback -Timeout '00:01:30' -WarningAction SilentlyContinue -ErrorAction Stop
        $final.State | Should -Be 'Stopped'
        $last = Complete-MoltChild -Child $child -Outputs $outputs
        $last.ExitCode | Should -Be 0 -Because $last.StdErr
        $last.StdOut | Should -Match 'STATUS Stopped'

        $comparison = Compare-MoltData $source $target @common -ErrorAction Stop
        @($comparison).Count | Should -Be 3
        $comparison | ForEach-Object { $_.Status | Should -Be 'Equal' -Because "$($_.Table) must be identical in MariaDB" }
        foreach ($check in $checks) {
            Get-Digest $maria myfbkill_src $check | Should -Be (Get-Digest $pg myfbkill_dst $check) -Because "$($check.Table) must hold each change once"
        }
        $written = Get-TestScalar $pg myfbkill_dst 'SELECT count(*) FROM history'
        $written | Should -BeGreaterThan 0
        Get-TestScalar $maria myfbkill_audit "SELECT CONCAT_WS(' ', SUM(tbl = 'history' AND kind = 'i'), COUNT(DISTINCT IF(tbl = 'history', id, NULL)), SUM(tbl = 'history' AND kind = 'u'), SUM(tbl = 'accounts')) FROM applied" |
            Should -Be "$written $written 0 $(15000 + $written)" -Because 'each history row is inserted once and never again, and each account update is applied once'

        $text = ($outputs -join "`n") + ($logs | Where-Object { Test-Path -LiteralPath $_ } | ForEach-Object { Get-Content -Raw -LiteralPath $_ }) -join "`n"
        $text | Should -Not -Match ([regex]::Escape($password))
        $text | Should -Not -Match ([regex]::Escape([uri]::EscapeDataString($password)))
        Write-Host "killed MariaDB failback: $($final.Changes) changes failed back, killed between commit and confirm at $behind, $([int] $clock.Elapsed.TotalSeconds) s"
        $null = Remove-MoltReplication $source $target @common -FetchId myfbkill -Confirm:$false
    }
}
