# A Start-MoltReplication whose pwsh is killed during its load, before its keyless table was copied, then finished as
# README says: Start-MoltBulkLoad -Resume, then Resume-MoltReplication. The resumed load reads that table from a later
# snapshot than the stream's start, so the stream must skip the changes the snapshot already holds: applied again, each
# insert written in between doubled the table's rows (the reliability suite found 257 such rows under load).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:password = 'res@med:load1'
    Invoke-TestSql $pg postgres "CREATE ROLE resload LOGIN SUPERUSER PASSWORD '$password'"
    $script:credential = New-TestCredential resload $password
    $script:logs = [System.Collections.Generic.List[string]]::new()
    $script:outputs = [System.Collections.Generic.List[string]]::new()
}

AfterAll {
    if ($script:pg) { $pg.Dispose() }
    foreach ($log in $script:logs) { Remove-Item -LiteralPath $log -ErrorAction SilentlyContinue }
}

Describe 'Replication after a resumed load' {
    It 'applies to a keyless table finished by the resumed load only the changes its later snapshot did not hold' {
        New-TestDatabase $pg resload_src
        New-TestDatabase $pg resload_dst
        # The keyed table is copied in moments; the keyless one (one shard, 3M rows) takes seconds, so the kill lands between.
        Invoke-TestSql $pg resload_src @'
CREATE TABLE small (id int PRIMARY KEY, pad text); INSERT INTO small SELECT g, 'x' FROM generate_series(1, 20000) g;
CREATE TABLE audit (n int, note text); ALTER TABLE audit REPLICA IDENTITY FULL;
INSERT INTO audit SELECT g + 1000, 'before' FROM generate_series(1, 3000000) g;
ANALYZE;
'@
        $source = Get-TestUri $pg resload_src -User resload
        $target = Get-TestUri $pg resload_dst -User resload
        $child = Start-MoltRunbookChild -Command "Start-MoltReplication `$args[0] `$args[1] @common -FetchId resload -TableHandling DropAndRecreate -Confirm:`$false" `
            -User resload -Password $password -Source $source -Target $target -Logs $logs
        Wait-Until -Seconds 120 -Child $child -What 'the keyed table loaded' {
            (Get-TestScalar $pg resload_dst "SELECT to_regclass('_molt.fetch_shards') IS NOT NULL") -and
            (Get-TestScalar $pg resload_dst "SELECT count(*) FROM _molt.fetch_shards WHERE fetch_id = 'resload' AND source_table = 'public.small' AND status = 'done'") -ge 1
        }
        Stop-MoltChildHard -Child $child -Outputs $outputs
        Get-TestScalar $pg resload_dst "SELECT status FROM _molt.fetch_shards WHERE fetch_id = 'resload' AND source_table = 'public.audit'" |
            Should -Not -Be 'done' -Because 'the kill must come before the keyless table was copied'

        # After the stream's start, before the resumed load's snapshot: the load copies these, so the stream must not.
        foreach ($i in 1..50) { Invoke-TestSql $pg resload_src "INSERT INTO audit VALUES ($(100 + $i), 'between')" }
        $loaded = Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential -FetchId resload -Resume -Force -ErrorAction Stop -WarningAction SilentlyContinue
        ($loaded | Where-Object { $_ -is [Molt.BulkLoadSummary] }).Status | Should -Be 'Succeeded'
        foreach ($i in 1..20) { Invoke-TestSql $pg resload_src "INSERT INTO audit VALUES ($(200 + $i), 'after')" }

        $status = Resume-MoltReplication $source $target -SourceCredential $credential -TargetCredential $credential -FetchId resload -StopWhenCaughtUp -ErrorAction Stop -WarningAction SilentlyContinue |
            Select-Object -Last 1
        $status.State | Should -Be 'Stopped'
        $status.Changes | Should -Be 20 -Because 'only the inserts after the resumed snapshot are the stream''s to apply'
        Get-TestScalar $pg resload_dst "SELECT count(*) || ' ' || count(DISTINCT n) FROM audit" | Should -Be '3000070 3000070'
        $compared = Compare-MoltData $source $target -SourceCredential $credential -TargetCredential $credential -ErrorAction Stop | Where-Object { $_.PSObject.Properties['Status'] }
        $compared.Status | Should -Be @('Equal', 'Equal')
        Remove-MoltReplication $source $target -SourceCredential $credential -TargetCredential $credential -FetchId resload -Confirm:$false -ErrorAction Stop | Out-Null
        foreach ($output in $outputs) { $output | Should -Not -Match ([regex]::Escape($password)) }
    }
}
