# Replication from a MariaDB source (its binlog) into PostgreSQL as a DBA runs it in real pwsh: a job started with
# -ZeroDateHandling Sentinel streams the rows written meanwhile (a zero date among them), Stop-MoltReplication drains it,
# Compare-MoltData finds every table Equal; a -SlotName for a binlog source is refused with a clear error record.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:maria = Start-TestMariaDb
    $script:pg = Start-TestPostgres
    $script:common = @{ SourceCredential = (Get-TestAdminCredential $maria); TargetCredential = (Get-TestAdminCredential $pg) }

    function New-BinlogPair([string] $Name) {
        Invoke-TestSql $maria '' "CREATE DATABASE $Name"
        Invoke-TestSql $maria $Name @'
SET SESSION sql_mode = '';
CREATE TABLE orders (id INT PRIMARY KEY, qty INT UNSIGNED NOT NULL, placed DATE NOT NULL, note VARCHAR(20));
INSERT INTO orders SELECT seq, seq % 7, '2024-05-01' + INTERVAL seq DAY, concat('o', seq) FROM seq_1_to_500;
CREATE TABLE events (order_id INT NOT NULL, kind VARCHAR(20) NOT NULL);
INSERT INTO events SELECT seq, 'created' FROM seq_1_to_100;
'@
        New-TestDatabase $pg $Name
        [pscustomobject]@{ Name = $Name; Source = Get-TestUri $maria $Name; Target = Get-TestUri $pg $Name }
    }

    function Wait-Until([scriptblock] $Condition, [int] $Seconds = 60) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for: $Condition" }
            Start-Sleep -Milliseconds 200
        }
    }
}

AfterAll {
    if ($script:maria) { $maria.Dispose() }
    if ($script:pg) { $pg.Dispose() }
}

Describe 'Start-MoltReplication from MariaDB' {
    It 'streams the writes made after the load, a zero date as Sentinel, until Stop-MoltReplication drains it, every table Equal' {
        $pair = New-BinlogPair 'binlog'
        $job = Start-MoltReplication $pair.Source $pair.Target @common -FetchId binlog -TableHandling DropAndRecreate -ZeroDateHandling Sentinel `
            -StatusInterval '00:00:01' -AsJob -Confirm:$false
        Wait-Until { (Get-MoltReplicationStatus -Target $pair.Target -TargetCredential $common.TargetCredential -FetchId binlog -ErrorAction SilentlyContinue).State -in 'Streaming', 'CaughtUp' }
        Invoke-TestSql $maria $pair.Name @'
SET SESSION sql_mode = '';
INSERT INTO orders VALUES (1000, 4294967295, '0000-00-00', 'zero date');
UPDATE orders SET qty = qty + 1 WHERE id <= 50;
DELETE FROM orders WHERE id BETWEEN 100 AND 120;
INSERT INTO events VALUES (1, 'shipped'), (1, 'shipped');
DELETE FROM events WHERE order_id = 2 LIMIT 1;
'@
        $final = Stop-MoltReplication -Target $pair.Target -TargetCredential $common.TargetCredential -FetchId binlog -WarningVariable stopWarnings -WarningAction SilentlyContinue
        $final.State | Should -Be 'Stopped'
        $final.Slot | Should -BeNullOrEmpty
        $final.SourcePosition | Should -Match '^\d+-\d+-\d+'
        $job | Wait-Job -Timeout 60 | Out-Null
        $job.State | Should -Be 'Completed'
        $warnings = $null
        $null = Receive-Job $job -WarningVariable warnings -WarningAction SilentlyContinue
        # A MariaDB source can be failed back into: the cutover makes the failback slot, or says why not (events has no key).
        "$warnings $stopWarnings" | Should -Match "failback slot 'moltfb_binlog'"
        Remove-Job $job

        Get-TestScalar $pg $pair.Name "SELECT placed::text || ' ' || qty FROM orders WHERE id = 1000" | Should -Be '0001-01-01 4294967295'
        $comparison = Compare-MoltData $pair.Source $pair.Target @common -ZeroDateHandling Sentinel
        $comparison | ForEach-Object { $_.Status | Should -Be 'Equal' -Because "$($_.Table) must be identical on the target" }
        @($comparison).Count | Should -Be 2
    }

    It 'refuses -SlotName for a binlog source with an error record that says to leave it out' {
        $pair = New-BinlogPair 'slotted'
        $record = $null
        try {
            Start-MoltReplication $pair.Source $pair.Target @common -FetchId slotted -SlotName molt_slotted -TableHandling DropAndRecreate -Confirm:$false -ErrorAction Stop
        } catch {
            $record = $_
        }
        $record.FullyQualifiedErrorId | Should -BeLike 'ReplicationSlotNotApplicable,*'
        $record.ErrorDetails.RecommendedAction | Should -Match 'Leave -SlotName and -PublicationName out'
        Get-TestScalar $pg $pair.Name "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'" | Should -Be 0
    }
}
