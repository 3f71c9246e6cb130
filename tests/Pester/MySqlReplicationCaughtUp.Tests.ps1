# Replication from MariaDB (its binlog) into PostgreSQL through the cmdlets, in real pwsh: the load and the stream
# under an application's writes, stopped when caught up, resumed, and Compare-MoltData Equal.
BeforeAll {
    $ErrorActionPreference = 'Stop'
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:maria = Start-TestMariaDb -Settings @{ 'binlog-row-metadata' = 'FULL' }
    $script:pg = Start-TestPostgres
    $script:mariaCredential = Get-TestAdminCredential $maria
    $script:pgCredential = Get-TestAdminCredential $pg

    # orders has a key; events has none, so a change applied twice would show as an extra row.
    New-TestDatabase $maria 'shop'
    New-TestDatabase $pg 'shop_dst'
    Invoke-TestSql $maria 'shop' @'
CREATE TABLE orders (id BIGINT PRIMARY KEY, qty INT UNSIGNED NOT NULL, price DECIMAL(12,2), at DATETIME(6), note VARCHAR(40) CHARACTER SET latin1, body BLOB);
INSERT INTO orders SELECT seq, seq % 7, seq / 4, '2024-01-02 03:04:05.123456' + INTERVAL seq SECOND, concat('café ', seq), unhex(md5(seq)) FROM seq_1_to_2000;
CREATE TABLE events (order_id BIGINT NOT NULL, kind VARCHAR(20) NOT NULL);
INSERT INTO events SELECT seq, 'created' FROM seq_1_to_500;
'@

    # Inserts, updates and deletes on the source from another thread, as an application keeps writing.
    function Start-SourceWriter([int] $From, [int] $Count) {
        Start-ThreadJob -ArgumentList $maria, $From, $Count -ScriptBlock {
            param($maria, $from, $count)
            for ($i = $from; $i -lt $from + $count; $i++) {
                $sql = "START TRANSACTION; INSERT INTO orders VALUES ($i + 100000, $i % 5, $i.5, NOW(6), 'n$i', unhex(md5($i))); " +
                    "UPDATE orders SET qty = qty + 1, note = concat(note, '+') WHERE id = $($i % 2000 + 1); DELETE FROM orders WHERE id = $($i % 1000 + 1000); " +
                    "INSERT INTO events VALUES ($i, 'w$i'); COMMIT"
                $null = $maria.ExecuteAsync('shop', $sql, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
                Start-Sleep -Milliseconds 10
            }
        }
    }
}

AfterAll {
    if ($script:maria) { $maria.Dispose() }
    if ($script:pg) { $pg.Dispose() }
}

Describe 'Start-MoltReplication from MariaDB' {
    It 'loads and streams while the source is written to, stops when caught up, and after a Resume every table is Equal' {
        $source = Get-TestUri $maria 'shop'
        $target = Get-TestUri $pg 'shop_dst'
        $common = @{ SourceCredential = $mariaCredential; TargetCredential = $pgCredential }
        $writer = Start-SourceWriter 1 300

        $output = Start-MoltReplication $source $target @common -FetchId maria -TableHandling DropAndRecreate -StopWhenCaughtUp `
            -StatusInterval '00:00:01' -Confirm:$false -WarningAction SilentlyContinue
        $writer | Wait-Job | Receive-Job
        $writer | Remove-Job

        ($output | Where-Object { $_ -is [Molt.BulkLoadSummary] }).Status | Should -Be 'Succeeded'
        $final = @($output | Where-Object { $_ -is [Molt.ReplicationStatus] })[-1]
        $final.State | Should -Be 'Stopped'
        $final.SourcePosition | Should -Match '^\d+-\d+-\d+'
        $final.Slot | Should -BeNullOrEmpty

        # The rest of the writes, applied by a Resume that stops at the source's end.
        $resumed = @(Resume-MoltReplication $source $target @common -FetchId maria -StopWhenCaughtUp -WarningAction SilentlyContinue)[-1]
        $resumed.State | Should -Be 'Stopped'
        $resumed.Inserts | Should -BeGreaterThan 0

        $comparison = Compare-MoltData $source $target @common
        @($comparison).Count | Should -Be 2
        $comparison | ForEach-Object { $_.Status | Should -Be 'Equal' -Because "$($_.Table) must be identical on the target" }
        foreach ($table in 'orders', 'events') {
            Get-TestScalar $pg 'shop_dst' "SELECT count(*) FROM $table" | Should -Be (Get-TestScalar $maria 'shop' "SELECT count(*) FROM $table")
        }
    }
}
