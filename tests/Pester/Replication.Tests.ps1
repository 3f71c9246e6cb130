# The replication cmdlets end to end, in real pwsh against a real PostgreSQL source and target (wal_level = logical):
# a load from the slot's snapshot followed by the changes written meanwhile, a job stopped from another process at
# cutover, Ctrl+C and Resume with nothing applied twice, the slot removed only when asked, and no password anywhere.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:credential = Get-TestAdminCredential $pg

    # orders has a key; events has none and REPLICA IDENTITY FULL, so a change applied twice would show as an extra row.
    function New-ReplicationPair([string] $Name) {
        New-TestDatabase $pg "${Name}_src"
        New-TestDatabase $pg "${Name}_dst"
        Invoke-TestSql $pg "${Name}_src" @'
CREATE TABLE orders (id bigint PRIMARY KEY, qty int NOT NULL, note text);
INSERT INTO orders SELECT g, g % 7, 'o' || g FROM generate_series(1, 2000) g;
CREATE TABLE events (order_id bigint NOT NULL, kind text NOT NULL);
ALTER TABLE events REPLICA IDENTITY FULL;
INSERT INTO events SELECT g, 'created' FROM generate_series(1, 500) g;
'@
        [pscustomobject]@{ Name = $Name; Source = Get-TestUri $pg "${Name}_src"; Target = Get-TestUri $pg "${Name}_dst"; SourceDatabase = "${Name}_src"; TargetDatabase = "${Name}_dst" }
    }

    # Inserts, updates and deletes on the source from another thread, as an application keeps writing.
    function Start-SourceWriter($Pair, [int] $From, [int] $Count, [int] $PauseMs = 10) {
        Start-ThreadJob -ArgumentList $pg, $Pair.SourceDatabase, $From, $Count, $PauseMs -ScriptBlock {
            param($pg, $database, $from, $count, $pause)
            for ($i = $from; $i -lt $from + $count; $i++) {
                $sql = "INSERT INTO orders VALUES ($i + 100000, $i % 5, 'n$i'); UPDATE orders SET qty = qty + 1 WHERE id = $($i % 2000 + 1); " +
                    "DELETE FROM orders WHERE id = $($i % 1000 + 1000); INSERT INTO events VALUES ($i, 'w$i')"
                $null = $pg.ExecuteAsync($database, $sql, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
                Start-Sleep -Milliseconds $pause
            }
        }
    }

    function Assert-Equal($Pair) {
        $comparison = Compare-MoltData $Pair.Source $Pair.Target -SourceCredential $credential -TargetCredential $credential
        $comparison | ForEach-Object { $_.Status | Should -Be 'Equal' -Because "$($_.Table) must be identical on the target" }
        @($comparison).Count | Should -Be 2
        foreach ($table in 'orders', 'events') {
            Get-TestScalar $pg $Pair.TargetDatabase "SELECT count(*) FROM $table" | Should -Be (Get-TestScalar $pg $Pair.SourceDatabase "SELECT count(*) FROM $table")
        }
    }

    function Get-SlotCount($Pair) {
        Get-TestScalar $pg postgres "SELECT count(*) FROM pg_replication_slots WHERE database = '$($Pair.SourceDatabase)'"
    }

    function Wait-Until([scriptblock] $Condition, [int] $Seconds = 60) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for: $Condition" }
            Start-Sleep -Milliseconds 100
        }
    }

    $script:common = @{ SourceCredential = $credential; TargetCredential = $credential }
}

AfterAll { if ($script:pg) { $pg.Dispose() } }

Describe 'Start-MoltReplication and Resume-MoltReplication' {
    It 'loads from the slot snapshot while the source is written to, stops when caught up, and a Resume applies the rest: every table Equal' {
        $pair = New-ReplicationPair 'caught'
        $writer = Start-SourceWriter $pair 1 150
        $output = Start-MoltReplication $pair.Source $pair.Target @common -FetchId caught -TableHandling DropAndRecreate -StopWhenCaughtUp `
            -StatusInterval '00:00:01' -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue
        $writer | Wait-Job | Remove-Job
        $summary = $output | Where-Object { $_ -is [Molt.BulkLoadSummary] }
        $summary.Status | Should -Be 'Succeeded'
        $summary.ReplicationSlot | Should -Be 'molt_caught'
        @($output | Where-Object { $_ -is [Molt.BulkLoadTableResult] }).Count | Should -Be 2
        $final = @($output | Where-Object { $_ -is [Molt.ReplicationStatus] })[-1]
        $final.State | Should -Be 'Stopped'
        $final.TargetPosition | Should -Match '^[0-9A-F]+/[0-9A-F]+$'
        $final.Note | Should -Match "slot 'molt_caught'.*Remove-MoltReplication"
        $warnings -join "`n" | Should -Match "slot 'molt_caught'"
        foreach ($line in ($final | Out-String -Width 80) -split '\r?\n') { $line.TrimEnd().Length | Should -BeLessOrEqual 80 }
        ($final | Out-String -Width 80) | Should -Match 'FetchId\s+State\s+LagBytes\s+Lag\(s\)\s+Changes'
        ($final | Out-String -Width 80) | Should -Match 'caught\s+Stopped'

        $resumed = Resume-MoltReplication $pair.Source $pair.Target @common -FetchId caught -StopWhenCaughtUp -WarningAction SilentlyContinue
        @($resumed)[-1].State | Should -Be 'Stopped'
        Assert-Equal $pair
        $status = Get-MoltReplicationStatus -Target $pair.Target -TargetCredential $credential -FetchId caught
        $status.State | Should -Be 'Stopped'
        $status.Transactions | Should -BeGreaterThan 0
        $status.SourcePosition | Should -Be @($resumed)[-1].SourcePosition
        $status.Slot | Should -Be 'molt_caught'
    }

    It 'runs as a job that Stop-MoltReplication in a second pwsh drains; a second Resume of the running stream is refused' {
        $pair = New-ReplicationPair 'job'
        $job = Start-MoltReplication $pair.Source $pair.Target @common -FetchId jobrun -TableHandling DropAndRecreate -StatusInterval '00:00:01' -AsJob -Confirm:$false
        $job | Should -BeOfType ([Molt.PowerShell.Cmdlets.MoltReplicationJob])
        $job.Command | Should -Match "^Start-MoltReplication postgres://\S+/job_src\S* postgres://\S+/job_dst"
        Get-Job -Id $job.Id | Should -Not -BeNullOrEmpty
        Wait-Until { (Get-MoltReplicationStatus -Target $pair.Target -TargetCredential $credential -FetchId jobrun -ErrorAction SilentlyContinue).State -in 'Streaming', 'CaughtUp' }
        $writer = Start-SourceWriter $pair 1 100
        $refused = $null
        try { Resume-MoltReplication $pair.Source $pair.Target @common -FetchId jobrun -ErrorAction Stop -WarningVariable refusedWarnings -WarningAction SilentlyContinue }
        catch { $refused = $_ }
        $refused.FullyQualifiedErrorId | Should -Be 'ReplicationStreamActive,Molt.PowerShell.Cmdlets.ResumeMoltReplicationCommand'
        $refused.Exception.Message | Should -Match 'pid'
        $refusedWarnings | Should -BeNullOrEmpty -Because 'a refused Resume has no stream of its own to tell about'
        $writer | Wait-Job | Remove-Job

        $stop = Invoke-MoltChild -Timeout '00:02:00' -ArgumentList $pair.Target, $credential.UserName, $credential.GetNetworkCredential().Password -Script @'
$credential = [pscredential]::new($args[1], (ConvertTo-SecureString $args[2] -AsPlainText -Force))
Stop-MoltReplication -Target $args[0] -TargetCredential $credential -FetchId jobrun -WarningAction SilentlyContinue |
    ForEach-Object { "FINAL $($_.State) $($_.SourcePosition) $($_.TargetPosition)" }
'@
        $stop.StdErr | Should -BeNullOrEmpty
        $stop.StdOut | Should -Match 'FINAL Stopped [0-9A-F]+/[0-9A-F]+ [0-9A-F]+/[0-9A-F]+'
        $job | Wait-Job -Timeout 60 | Out-Null
        $job.State | Should -Be 'Completed'
        $received = Receive-Job $job -WarningAction SilentlyContinue
        $statuses = @($received | Where-Object { $_ -is [Molt.ReplicationStatus] })
        $statuses.Count | Should -BeGreaterThan 1
        $statuses[-1].State | Should -Be 'Stopped'
        @($received | Where-Object { $_ -is [Molt.BulkLoadSummary] }).Count | Should -Be 1
        Remove-Job $job
        Assert-Equal $pair
    }

    It 'resumes after Ctrl+C in the middle of a stream with every change applied once' {
        $pair = New-ReplicationPair 'ctrlc'
        $null = Start-MoltReplication $pair.Source $pair.Target @common -FetchId ctrlc -TableHandling DropAndRecreate -StopWhenCaughtUp -Confirm:$false -WarningAction SilentlyContinue
        $writer = Start-SourceWriter $pair 1 400 20
        $child = Invoke-MoltChild -Timeout '00:02:00' -InterruptWhen 'STATUS (Streaming|CaughtUp) [1-9]' `
            -ArgumentList $pair.Source, $pair.Target, $credential.UserName, $credential.GetNetworkCredential().Password -Script @'
$credential = [pscredential]::new($args[2], (ConvertTo-SecureString $args[3] -AsPlainText -Force))
Resume-MoltReplication $args[0] $args[1] -SourceCredential $credential -TargetCredential $credential -FetchId ctrlc -StatusInterval '00:00:01' |
    ForEach-Object { "STATUS $($_.State) $($_.Changes)" }
'@
        $child.Interrupted | Should -BeTrue
        $child.TimedOut | Should -BeFalse
        $child.StdOut + $child.StdErr | Should -Match "Resume-MoltReplication -FetchId 'ctrlc' continues it"
        $writer | Wait-Job | Remove-Job
        $after = Resume-MoltReplication $pair.Source $pair.Target @common -FetchId ctrlc -StopWhenCaughtUp -WarningAction SilentlyContinue
        @($after)[-1].State | Should -Be 'Stopped'
        Assert-Equal $pair
    }

    It 'drains to a -StopAt position and no further; the next Resume applies what came after it' {
        $pair = New-ReplicationPair 'stopat'
        $null = Start-MoltReplication $pair.Source $pair.Target @common -FetchId stopat -TableHandling DropAndRecreate -StopWhenCaughtUp -Confirm:$false -WarningAction SilentlyContinue
        Invoke-TestSql $pg $pair.SourceDatabase "INSERT INTO orders VALUES (900001, 1, 'before')"
        $position = Get-TestScalar $pg $pair.SourceDatabase "SELECT pg_current_wal_insert_lsn()::text"
        Invoke-TestSql $pg $pair.SourceDatabase "INSERT INTO orders VALUES (900002, 1, 'after')"
        $final = @(Resume-MoltReplication $pair.Source $pair.Target @common -FetchId stopat -StopAt $position -WarningAction SilentlyContinue)[-1]
        $final.State | Should -Be 'Stopped'
        $final.StopAt | Should -Be $position
        Get-TestScalar $pg $pair.TargetDatabase "SELECT string_agg(note, ',' ORDER BY id) FROM orders WHERE id > 900000" | Should -Be 'before'
        $null = Resume-MoltReplication $pair.Source $pair.Target @common -FetchId stopat -StopWhenCaughtUp -WarningAction SilentlyContinue
        Get-TestScalar $pg $pair.TargetDatabase "SELECT string_agg(note, ',' ORDER BY id) FROM orders WHERE id > 900000" | Should -Be 'before,after'
    }

    It 'runs as a job that shows the lag as progress and that Stop-Job cancels, the checkpoint intact for a Resume' {
        $pair = New-ReplicationPair 'stopjob'
        $job = Start-MoltReplication $pair.Source $pair.Target @common -FetchId stopjob -TableHandling DropAndRecreate -StatusInterval '00:00:01' -AsJob -Confirm:$false
        Wait-Until { (Get-MoltReplicationStatus -Target $pair.Target -TargetCredential $credential -FetchId stopjob -ErrorAction SilentlyContinue).State -in 'Streaming', 'CaughtUp' }
        $writer = Start-SourceWriter $pair 1 200 20
        Wait-Until { @($job.Output | Where-Object { $_ -is [Molt.ReplicationStatus] -and $_.Changes -gt 0 }).Count -gt 0 }
        Wait-Until { @($job.Progress | Where-Object StatusDescription -Match 'stopjob (Streaming|CaughtUp) at [0-9A-F]+/[0-9A-F]+: .*behind; [\d,]+ changes').Count -gt 0 }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Stop-Job $job
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 15
        $job.State | Should -Be 'Stopped'
        $null = Receive-Job $job -WarningVariable jobWarnings -WarningAction SilentlyContinue -ErrorAction SilentlyContinue
        $jobWarnings -join "`n" | Should -Match "Replication 'stopjob' was interrupted"
        Remove-Job $job
        $writer | Wait-Job | Remove-Job
        $after = Resume-MoltReplication $pair.Source $pair.Target @common -FetchId stopjob -StopWhenCaughtUp -WarningAction SilentlyContinue
        @($after)[-1].State | Should -Be 'Stopped'
        Assert-Equal $pair
    }

    It 'continues a Start-MoltBulkLoad -ReplicationSlot load whose summary is piped into Resume-MoltReplication' {
        $pair = New-ReplicationPair 'piped'
        $load = Start-MoltBulkLoad $pair.Source $pair.Target @common -FetchId piped -ReplicationSlot molt_piped -TableHandling DropAndRecreate -Confirm:$false -WarningAction SilentlyContinue
        $writer = Start-SourceWriter $pair 1 50 0
        $writer | Wait-Job | Remove-Job
        $statuses = $load | Where-Object { $_ -is [Molt.BulkLoadSummary] } |
            Resume-MoltReplication @common -StopWhenCaughtUp -WarningAction SilentlyContinue
        @($statuses)[-1].State | Should -Be 'Stopped'
        @($statuses)[-1].Slot | Should -Be 'molt_piped'
        Assert-Equal $pair
    }
}

Describe 'Remove-MoltReplication' {
    It 'changes nothing under -WhatIf and drops the slot and publication with -Confirm:$false' {
        $pair = New-ReplicationPair 'remove'
        $null = Start-MoltReplication $pair.Source $pair.Target @common -FetchId removed -TableHandling DropAndRecreate -StopWhenCaughtUp -Confirm:$false -WarningAction SilentlyContinue
        Get-SlotCount $pair | Should -Be 1
        Remove-MoltReplication $pair.Source $pair.Target @common -FetchId removed -WhatIf
        Get-SlotCount $pair | Should -Be 1
        Get-TestScalar $pg $pair.SourceDatabase "SELECT count(*) FROM pg_publication" | Should -Be 1
        $removed = Remove-MoltReplication $pair.Source $pair.Target @common -FetchId removed -Confirm:$false
        Get-SlotCount $pair | Should -Be 0
        Get-TestScalar $pg $pair.SourceDatabase "SELECT count(*) FROM pg_publication" | Should -Be 0
        $removed.Slot | Should -BeNullOrEmpty
        $removed.Note | Should -BeNullOrEmpty
    }

    It 'refuses a FetchId the target never recorded, under -WhatIf too, naming it and how to list the recorded ones, and drops nothing' {
        $pair = New-ReplicationPair 'unknown'
        $null = Start-MoltReplication $pair.Source $pair.Target @common -FetchId kept -TableHandling DropAndRecreate -StopWhenCaughtUp -Confirm:$false -WarningAction SilentlyContinue
        foreach ($whatIf in $true, $false) {
            $refused = $null
            $output = Remove-MoltReplication $pair.Source $pair.Target @common -FetchId 'no_such_id' -WhatIf:$whatIf -Confirm:$false -ErrorVariable refused -ErrorAction SilentlyContinue
            $output | Should -BeNullOrEmpty
            @($refused).Count | Should -Be 1 -Because "-WhatIf:$whatIf must fail"
            $refused[0].FullyQualifiedErrorId | Should -BeLike 'ReplicationNotFound,*'
            $refused[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $refused[0].Exception.Message | Should -Match "'no_such_id'"
            $refused[0].ErrorDetails.RecommendedAction | Should -Match 'Get-MoltReplicationStatus -Target'
            Get-SlotCount $pair | Should -Be 1
            Get-TestScalar $pg $pair.SourceDatabase "SELECT count(*) FROM pg_publication" | Should -Be 1
        }
        (Get-MoltReplicationStatus -Target $pair.Target -TargetCredential $credential).FetchId | Should -Be 'kept'
        $null = Remove-MoltReplication $pair.Source $pair.Target @common -FetchId kept -Confirm:$false
        Get-SlotCount $pair | Should -Be 0
    }
}

Describe 'Credentials' {
    It 'never shows a password holding @ in output, errors or the log, under $ErrorActionPreference Stop' {
        $pair = New-ReplicationPair 'secret'
        $password = 'p@ss:w/rd@9x'
        Invoke-TestSql $pg postgres "CREATE ROLE repl_secret LOGIN SUPERUSER PASSWORD '$password'"
        $log = Join-Path ([IO.Path]::GetTempPath()) "molt-repl-secret-$PID.log"
        $source = Get-TestUri $pg $pair.SourceDatabase -User repl_secret
        $target = Get-TestUri $pg $pair.TargetDatabase -User repl_secret
        $child = Invoke-MoltChild -Timeout '00:02:00' -ArgumentList $source, $target, $password, $log -Script @'
$ErrorActionPreference = 'Stop'
$credential = [pscredential]::new('repl_secret', (ConvertTo-SecureString $args[2] -AsPlainText -Force))
Start-MoltReplication $args[0] $args[1] -SourceCredential $credential -TargetCredential $credential -FetchId secret -TableHandling DropAndRecreate `
    -StopWhenCaughtUp -Confirm:$false -LogPath $args[3] -Verbose *>&1 | Out-String -Width 200
Get-MoltReplicationStatus -Target $args[1] -TargetCredential $credential | Format-List * | Out-String -Width 200
Resume-MoltReplication $args[0] $args[1] -SourceCredential $credential -TargetCredential $credential -FetchId nosuchstream
'@
        $child.ExitCode | Should -Not -Be 0
        $child.StdOut | Should -Match 'Stopped'
        $child.StdErr | Should -Match 'nosuchstream'
        $text = $child.StdOut + $child.StdErr + (Get-Content -Raw -LiteralPath $log)
        $text | Should -Not -Match ([regex]::Escape($password))
        $text | Should -Not -Match ([regex]::Escape([uri]::EscapeDataString($password)))
        Remove-Item -LiteralPath $log
    }
}
