# Failback into MariaDB as a runbook scripts it, in real pwsh: a MariaDB-to-PostgreSQL replication job with
# -ZeroDateHandling Sentinel, the cutover stop (which makes the failback slot on PostgreSQL), the application writing to
# PostgreSQL, failback as a job piped from the stop's status, Stop-MoltReplication -Failback, and every table Equal.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:maria = Start-TestMariaDb
    $script:pg = Start-TestPostgres
    $script:common = @{ SourceCredential = (Get-TestAdminCredential $maria); TargetCredential = (Get-TestAdminCredential $pg) }

    function Wait-Until([scriptblock] $Condition, [int] $Seconds = 60) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for: $Condition" }
            Start-Sleep -Milliseconds 200
        }
    }

    function Get-StreamState([string] $Target, [string] $FetchId, [string] $Direction) {
        (Get-MoltReplicationStatus -Target $Target -TargetCredential $common.TargetCredential -FetchId $FetchId -ErrorAction SilentlyContinue |
            Where-Object Direction -EQ $Direction).State
    }
}

AfterAll {
    if ($script:maria) { $maria.Dispose() }
    if ($script:pg) { $pg.Dispose() }
}

Describe 'Invoke-MoltFailback into MariaDB' {
    It 'sends the target''s writes back into MariaDB in the original types, zero dates as they were, drained by Stop-MoltReplication -Failback' {
        Invoke-TestSql $maria '' 'CREATE DATABASE shop'
        Invoke-TestSql $maria 'shop' @'
SET SESSION sql_mode = '';
CREATE TABLE orders (id INT UNSIGNED PRIMARY KEY, qty SMALLINT UNSIGNED NOT NULL, placed DATE NOT NULL, at TIMESTAMP(3) NULL,
  kind ENUM('web', 'shop') NOT NULL, flags SET('gift', 'rush') NOT NULL, doc JSON, blob_ VARBINARY(8), total DECIMAL(12, 2) NOT NULL);
INSERT INTO orders SELECT seq, seq % 7, '2024-05-01' + INTERVAL seq DAY, '2024-05-01 10:00:00.250', IF(seq % 2, 'web', 'shop'), IF(seq % 3, 'gift', ''),
  '{"n": 1}', UNHEX('00FF'), seq * 1.25 FROM seq_1_to_300;
UPDATE orders SET placed = '0000-00-00' WHERE id = 300;
'@
        New-TestDatabase $pg 'shop'
        $source = Get-TestUri $maria 'shop'
        $target = Get-TestUri $pg 'shop'

        $job = Start-MoltReplication $source $target @common -FetchId shop -TableHandling DropAndRecreate -ZeroDateHandling Sentinel -StatusInterval '00:00:01' `
            -AsJob -Confirm:$false
        Wait-Until { (Get-StreamState $target shop Forward) -in 'Streaming', 'CaughtUp' }
        Invoke-TestSql $maria 'shop' "UPDATE orders SET qty = qty + 1 WHERE id <= 20"
        $stop = Stop-MoltReplication -Target $target -TargetCredential $common.TargetCredential -FetchId shop -WarningAction SilentlyContinue
        $stop.State | Should -Be 'Stopped'
        $stop.FailbackSlot | Should -Be 'moltfb_shop'
        $job | Wait-Job -Timeout 60 | Out-Null
        $job.State | Should -Be 'Completed'
        Remove-Job $job

        # The application on PostgreSQL: inserts (one with the zero date's stand-in), updates, a key change, deletes.
        Invoke-TestSql $pg 'shop' @'
INSERT INTO orders SELECT g, 65535, DATE '2025-01-01', TIMESTAMPTZ '2025-01-01 08:00:00.125+02', 'shop', 'gift,rush', '{"b": [1, 2]}', '\x0102', 99.99
  FROM generate_series(1001, 1050) g;
INSERT INTO orders VALUES (1051, 1, DATE '0001-01-01', NULL, 'web', '', NULL, NULL, 0);
UPDATE orders SET total = total + 0.01, doc = '{"changed": true}' WHERE id BETWEEN 1 AND 40;
UPDATE orders SET id = 4000000000 WHERE id = 50;
DELETE FROM orders WHERE id BETWEEN 200 AND 219;
'@
        $failback = $stop | Invoke-MoltFailback -Source $source @common -ZeroDateHandling Sentinel -StatusInterval '00:00:01' -AsJob
        $failback.Name | Should -Be 'Failback shop'
        Wait-Until { (Get-StreamState $target shop Failback) -in 'Streaming', 'CaughtUp' }
        $final = Stop-MoltReplication -Target $target -TargetCredential $common.TargetCredential -FetchId shop -Failback -WarningAction SilentlyContinue
        $final.Direction | Should -Be 'Failback'
        $final.State | Should -Be 'Stopped'
        $final.Changes | Should -Be (51 + 40 + 1 + 20) -Because 'exactly the application''s changes go back, none of those Molt applied forward'
        $failback | Wait-Job -Timeout 60 | Out-Null
        $failback.State | Should -Be 'Completed'
        Remove-Job $failback

        Get-TestScalar $maria 'shop' "SELECT CONCAT_WS('|', qty, CAST(placed AS CHAR), UNIX_TIMESTAMP(at), flags, HEX(blob_)) FROM orders WHERE id = 1001" |
            Should -Be '65535|2025-01-01|1735711200.125|gift,rush|0102' -Because 'the TIMESTAMP is the instant written on the target (06:00 UTC)'
        Get-TestScalar $maria 'shop' "SELECT CAST(placed AS CHAR) FROM orders WHERE id = 1051" | Should -Be '0000-00-00'
        Get-TestScalar $maria 'shop' "SELECT COUNT(*) FROM ``_molt``.replication_checkpoints WHERE fetch_id = 'shop'" | Should -Be 1
        $comparison = Compare-MoltData $source $target @common -ZeroDateHandling Sentinel
        @($comparison).Count | Should -Be 1
        $comparison | ForEach-Object { $_.Status | Should -Be 'Equal' -Because "$($_.Table) must be identical in the original" }

        $null = Remove-MoltReplication $source $target @common -FetchId shop -Confirm:$false
        Get-TestScalar $pg postgres "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'moltfb_shop'" | Should -Be 0
    }
}
