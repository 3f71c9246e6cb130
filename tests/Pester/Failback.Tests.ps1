# Invoke-MoltFailback as a runbook scripts it, in real pwsh against real PostgreSQL source and target (wal_level =
# logical): replication as a job, the cutover stop (which leaves the failback slot), the application writing to the
# target, failback as a job piped from the stop's status, Stop-MoltReplication -Failback, and the original Equal.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:credential = Get-TestAdminCredential $pg
    $script:common = @{ SourceCredential = $credential; TargetCredential = $credential }

    function Wait-Until([scriptblock] $Condition, [int] $Seconds = 60) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for: $Condition" }
            Start-Sleep -Milliseconds 100
        }
    }

    function Get-StreamState([string] $Target, [string] $FetchId, [string] $Direction) {
        (Get-MoltReplicationStatus -Target $Target -TargetCredential $credential -FetchId $FetchId -ErrorAction SilentlyContinue |
            Where-Object Direction -EQ $Direction).State
    }
}

AfterAll { if ($script:pg) { $pg.Dispose() } }

Describe 'Invoke-MoltFailback' {
    It 'sends the target''s writes after the cutover back into the original, refused while replication runs, drained by Stop-MoltReplication -Failback' {
        New-TestDatabase $pg 'fb_src'
        New-TestDatabase $pg 'fb_dst'
        Invoke-TestSql $pg 'fb_src' @'
CREATE TABLE orders (id bigint PRIMARY KEY, qty int NOT NULL, note text);
INSERT INTO orders SELECT g, g % 7, 'o' || g FROM generate_series(1, 2000) g;
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 300) g;
'@
        $source = Get-TestUri $pg 'fb_src'
        $target = Get-TestUri $pg 'fb_dst'

        $job = Start-MoltReplication $source $target @common -FetchId fb -TableHandling DropAndRecreate -StatusInterval '00:00:01' -AsJob -Confirm:$false
        Wait-Until { (Get-StreamState $target fb Forward) -in 'Streaming', 'CaughtUp' }
        Invoke-TestSql $pg 'fb_src' "UPDATE orders SET qty = qty + 1 WHERE id <= 200; INSERT INTO customers VALUES (1000, 'during streaming')"
        $refused = $null
        try { Invoke-MoltFailback -Source $source -Target $target @common -FetchId fb -StopWhenCaughtUp -ErrorAction Stop -WarningAction SilentlyContinue }
        catch { $refused = $_ }
        $refused.FullyQualifiedErrorId | Should -Be 'ReplicationOppositeStreamActive,Molt.PowerShell.Cmdlets.InvokeMoltFailbackCommand'
        $refused.Exception.Message | Should -Match "Replication 'fb' is running"

        # The cutover: the forward stream drains and leaves the failback slot on the target.
        $stop = Stop-MoltReplication -Target $target -TargetCredential $credential -FetchId fb -WarningVariable stopWarnings -WarningAction SilentlyContinue
        $stop.State | Should -Be 'Stopped'
        $stop.FailbackSlot | Should -Be 'moltfb_fb'
        $stopWarnings -join "`n" | Should -Match "failback slot 'moltfb_fb' on the target keeps its WAL"
        $job | Wait-Job -Timeout 60 | Out-Null
        $job.State | Should -Be 'Completed'
        Remove-Job $job

        # The application, now on the target: inserts, updates, a key change, deletes.
        Invoke-TestSql $pg 'fb_dst' @'
INSERT INTO orders SELECT g, 1, 'after cutover' FROM generate_series(5001, 5100) g;
UPDATE orders SET note = 'changed on the target' WHERE id BETWEEN 10 AND 60;
UPDATE customers SET id = 2000 WHERE id = 7;
DELETE FROM orders WHERE id BETWEEN 1500 AND 1549;
'@
        Invoke-MoltFailback -Source $source -Target $target @common -FetchId fb -WhatIf
        Get-TestScalar $pg 'fb_src' "SELECT count(*) FROM orders WHERE note = 'after cutover'" | Should -Be 0

        $failback = $stop | Invoke-MoltFailback -Source $source @common -StatusInterval '00:00:01' -AsJob
        $failback | Should -BeOfType ([Molt.PowerShell.Cmdlets.MoltReplicationJob])
        $failback.Name | Should -Be 'Failback fb'
        Wait-Until { (Get-StreamState $target fb Failback) -in 'Streaming', 'CaughtUp' }
        Invoke-TestSql $pg 'fb_dst' "INSERT INTO customers VALUES (3000, 'while failing back'); DELETE FROM customers WHERE id = 8"

        $final = Stop-MoltReplication -Target $target -TargetCredential $credential -FetchId fb -Failback -WarningAction SilentlyContinue
        $final.Direction | Should -Be 'Failback'
        $final.State | Should -Be 'Stopped'
        $final.Changes | Should -Be (100 + 51 + 1 + 50 + 2) -Because 'exactly the application''s changes go back, none of those Molt applied forward'
        $failback | Wait-Job -Timeout 60 | Out-Null
        $failback.State | Should -Be 'Completed'
        @(Receive-Job $failback -WarningAction SilentlyContinue | Where-Object { $_ -is [Molt.ReplicationStatus] })[-1].Direction | Should -Be 'Failback'
        Remove-Job $failback

        $comparison = Compare-MoltData $source $target @common
        @($comparison).Count | Should -Be 2
        $comparison | ForEach-Object { $_.Status | Should -Be 'Equal' -Because "$($_.Table) must be identical in the original" }
        $statuses = Get-MoltReplicationStatus -Target $target -TargetCredential $credential -FetchId fb
        @($statuses).Direction | Should -Be @('Forward', 'Failback')
        ($statuses | Out-String -Width 80) | Should -Match 'Direction: Failback'

        $null = Remove-MoltReplication $source $target @common -FetchId fb -Confirm:$false
        Get-TestScalar $pg postgres "SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ('molt_fb', 'moltfb_fb')" | Should -Be 0
    }
}
