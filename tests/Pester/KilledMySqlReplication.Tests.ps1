# A replication from MariaDB whose pwsh is killed outright (SIGKILL: nothing of the process runs after it), as a user runs
# it: a child pwsh with $ErrorActionPreference = 'Stop' and a password holding '@' and ':', the source under a writer
# (inserts, updates, deletes and key changes) the whole time. Killed mid-batch, right after a checkpoint's commit on the
# target and before the next (a binlog reader has nothing to confirm on the source: the checkpoint is the only record),
# and several times in a row; each time the status shows the stream failed and released, Resume-MoltReplication goes on,
# and the end is Equal on every table with each history row once.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:maria = Start-TestMariaDb
    $script:pg = Start-TestPostgres
    $script:password = 'k1ll:my@sql:9'
    Wait-Task ($maria.CreateUserAsync('mykill', $password, 'ALL PRIVILEGES ON *.*'))
    Invoke-TestSql $pg postgres "CREATE ROLE mykill LOGIN SUPERUSER PASSWORD '$password'"
    $script:sourceCredential = New-TestCredential mykill $password
    $script:logs = [System.Collections.Generic.List[string]]::new()
    $script:outputs = [System.Collections.Generic.List[string]]::new()

    $PSDefaultParameterValues = @{ 'Wait-Until:Seconds' = 60; 'Complete-MoltChild:Seconds' = 90 }

    # The user's commands, each in a pwsh of its own.
    function Start-ReplicationChild([string] $Command) {
        Start-MoltRunbookChild -Command $Command -User mykill -Password $password -Source $source -Target $target -Logs $logs
    }

    # What a user sees once the killed process's sessions are gone: the stream failed, and nobody holds it.
    function Get-SettledStatus {
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        while (($status = Get-MoltReplicationStatus -Target $target -TargetCredential $sourceCredential -FetchId mykill -ErrorAction Stop).State -in 'Loading', 'Streaming', 'CaughtUp', 'Draining') {
            if ([DateTime]::UtcNow -gt $deadline) { throw "The killed stream is still shown $($status.State), held by $($status.HeldBy)" }
            Start-Sleep -Milliseconds 100
        }
        $status.HeldBy | Should -BeNullOrEmpty
        $status.State | Should -Be 'Failed'
        $status.Error | Should -Match 'Resume-MoltReplication'
        $status
    }

    function Get-Checkpoint {
        if (-not (Get-TestScalar $pg mykill_dst "SELECT to_regclass('_molt.replication_checkpoints') IS NOT NULL")) { return '' }
        Get-TestScalar $pg mykill_dst "SELECT coalesce((SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'mykill'), '')"
    }

    function Wait-Streaming($Child) {
        Wait-Until -Child $Child -What 'the resumed stream held' { (Get-MoltReplicationStatus -Target $target -TargetCredential $sourceCredential -FetchId mykill).HeldBy }
    }

    $resume = "Resume-MoltReplication `$args[0] `$args[1] @common -FetchId mykill -StatusInterval '00:00:01' | ForEach-Object { `"STATUS `$(`$_.State) `$(`$_.Transactions)`" }"

    # Each row's md5 summed (no whole-table text, which group_concat_max_len would cut), with the count and the sums: a
    # lost or doubled change moves one of them. History ids once each; the audit has no key, so a doubled insert is a row more.
    $script:checks = @(
        @{ Table = 'accounts'; Columns = 'id, balance, note'; Extra = 'sum(balance)' }
        @{ Table = 'history'; Columns = 'id, aid, delta'; Extra = 'count(DISTINCT id)' }
        @{ Table = 'audit'; Columns = 'aid, delta'; Extra = 'sum(delta)' }
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
    if ($script:stopWriting) { $stopWriting.Cancel() }
    if ($script:writer) { $writer.Dispose() }
    if ($script:maria) { $maria.Dispose() }
    if ($script:pg) { $pg.Dispose() }
    foreach ($log in $script:logs) { Remove-Item -LiteralPath $log -ErrorAction SilentlyContinue }
}

Describe 'A replication from MariaDB killed with SIGKILL' {
    It 'is resumed after kills mid-batch, right after a checkpoint commit and several in a row: Equal, every history row once, no password shown' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Invoke-TestSql $maria '' 'CREATE DATABASE mykill_src'
        Invoke-TestSql $maria mykill_src @'
CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL, note VARCHAR(60) NOT NULL);
CREATE TABLE history (id BIGINT AUTO_INCREMENT PRIMARY KEY, aid INT NOT NULL, delta INT NOT NULL);
CREATE TABLE audit (aid INT NOT NULL, delta INT NOT NULL);
CREATE TABLE markers (id INT PRIMARY KEY);
INSERT INTO accounts SELECT seq, seq, concat('seed ', seq) FROM seq_1_to_100000;
'@
        New-TestDatabase $pg mykill_dst
        $script:source = Get-TestUri $maria mykill_src -User mykill
        $script:target = Get-TestUri $pg mykill_dst -User mykill

        # The writer: one transaction each 20 ms or so, straight to the source, on a runspace of this process.
        $script:stopWriting = [Threading.CancellationTokenSource]::new()
        $script:writer = [powershell]::Create()
        $null = $writer.AddScript({
            param($server, $token)
            $random = [Random]::new(7)
            for ($n = 1; -not $token.IsCancellationRequested; $n++) {
                $id = 1000000 + $n
                $aid = $random.Next(1, 100001)
                $delta = $random.Next(-500, 500)
                $sql = "START TRANSACTION; INSERT INTO accounts VALUES ($id, $n, 'writer $n'); UPDATE accounts SET balance = balance + $delta WHERE id = $aid; " +
                    "INSERT INTO history (aid, delta) VALUES ($aid, $delta); INSERT INTO audit VALUES ($aid, $delta); "
                if ($n % 5 -eq 0) { $sql += "DELETE FROM accounts WHERE id = $($id - 3); " }
                if ($n % 7 -eq 0) { $sql += "UPDATE accounts SET id = id + 1000000 WHERE id = $($id - 1); " }
                $server.ExecuteAsync('mykill_src', $sql + 'COMMIT;', [Threading.CancellationToken]::None).GetAwaiter().GetResult()
                Start-Sleep -Milliseconds 20
            }
            $n - 1
        }).AddArgument($maria).AddArgument($stopWriting.Token)
        $writing = $writer.BeginInvoke()

        # 1. Started, then killed mid-batch: a large source transaction is being written into an open target transaction.
        $child = Start-ReplicationChild "Start-MoltReplication `$args[0] `$args[1] @common -FetchId mykill -TableHandling DropAndRecreate -StatusInterval '00:00:01' -Confirm:`$false"
        Wait-Until -Seconds 90 -Child $child -What 'the first checkpoint' { (Get-Checkpoint) -ne '' }
        Invoke-TestSql $maria mykill_src 'START TRANSACTION; UPDATE accounts SET balance = balance + 1 WHERE id <= 60000; INSERT INTO markers VALUES (1); COMMIT'
        Wait-Until -Child $child -What 'an open apply transaction before the large one is committed' {
            (Get-TestScalar $pg postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'mykill_dst' AND backend_xid IS NOT NULL AND state <> 'idle' AND pid <> pg_backend_pid()") -gt 0 -and
            (Get-TestScalar $pg mykill_dst 'SELECT count(*) FROM markers') -eq 0
        }
        Stop-MoltChildHard -Child $child -Outputs $outputs
        $null = Get-SettledStatus
        Get-TestScalar $pg mykill_dst 'SELECT count(*) FROM markers' | Should -Be 0 -Because 'the large transaction was killed before its commit on the target'

        # 2. Killed right after a checkpoint's commit and before the next one: one open connection polls the checkpoint,
        # and the kill is a syscall away once it moves. It landed in the window if the checkpoint is still the one seen.
        $poll = [Npgsql.NpgsqlConnection]::new($pg.ConnectionString('mykill_dst'))
        $poll.Open()
        $caught = 0
        for ($attempt = 1; $attempt -le 6 -and $caught -eq 0; $attempt++) {
            $child = Start-ReplicationChild $resume
            Wait-Streaming $child
            $probe = $poll.CreateCommand()
            $probe.CommandText = "SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'mykill'"
            $before = $probe.ExecuteScalar()
            $null = Stop-MoltChildWhen -Child $child -Seconds 10 -Condition { ($script:seen = $probe.ExecuteScalar()) -ne $before } -Outputs $outputs
            $seen = $script:seen
            $null = Get-SettledStatus
            if ($seen -ne $before -and (Get-Checkpoint) -eq $seen) { $caught = $attempt }
        }
        $poll.Dispose()
        $caught | Should -BeGreaterThan 0 -Because 'a kill must land between a checkpoint commit and the next'

        # 3. Several kills in a row, each soon after its Resume committed a new checkpoint.
        for ($kill = 1; $kill -le 3; $kill++) {
            $before = Get-Checkpoint
            $child = Start-ReplicationChild $resume
            Wait-Until -Child $child -What "kill ${kill}: a new checkpoint" { (Get-Checkpoint) -ne $before }
            Stop-MoltChildHard -Child $child -Outputs $outputs
            $null = Get-SettledStatus
        }

        # 4. The last Resume runs until the writes stop and Stop-MoltReplication (from this session) drains it.
        $child = Start-ReplicationChild $resume
        Wait-Streaming $child
        Start-Sleep -Seconds 2
        $stopWriting.Cancel()
        $written = $writer.EndInvoke($writing)
        $written[-1] | Should -BeGreaterThan 50
        $final = Stop-MoltReplication -Target $target -TargetCredential $sourceCredential -FetchId mykill -Timeout '00:01:30' -WarningAction SilentlyContinue -ErrorAction Stop
        $final.State | Should -Be 'Stopped'
        $last = Complete-MoltChild -Child $child -Outputs $outputs
        $last.ExitCode | Should -Be 0 -Because $last.StdErr
        $last.StdOut | Should -Match 'STATUS Stopped'

        $comparison = Compare-MoltData $source $target -SourceCredential $sourceCredential -TargetCredential $sourceCredential -WarningAction SilentlyContinue -ErrorAction Stop
        @($comparison).Count | Should -Be 4
        $comparison | ForEach-Object { $_.Status | Should -Be 'Equal' -Because "$($_.Table) must be identical on the target" }
        foreach ($check in $checks) {
            Get-Digest $pg mykill_dst $check | Should -Be (Get-Digest $maria mykill_src $check) -Because "$($check.Table) must hold each change once"
        }
        Get-TestScalar $pg mykill_dst 'SELECT count(*) FROM audit' | Should -Be (Get-TestScalar $maria mykill_src 'SELECT count(*) FROM history')
        Get-TestScalar $pg mykill_dst 'SELECT count(*) FROM accounts WHERE id > 2000000' | Should -BeGreaterThan 0 -Because 'key changes were streamed'
        Get-TestScalar $pg mykill_dst 'SELECT count(*) FROM markers' | Should -Be 1

        $text = ($outputs -join "`n") + ($logs | Where-Object { Test-Path -LiteralPath $_ } | ForEach-Object { Get-Content -Raw -LiteralPath $_ }) -join "`n"
        $text | Should -Not -Match ([regex]::Escape($password))
        $text | Should -Not -Match ([regex]::Escape([uri]::EscapeDataString($password)))
        Write-Host "killed MariaDB replication: $($final.Transactions) transactions streamed, $($written[-1]) written, commit window caught on attempt $caught, $([int] $clock.Elapsed.TotalSeconds) s"
    }
}
