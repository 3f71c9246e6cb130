# Start-MoltBulkLoad and Get-MoltFetchStatus as a runbook composes them: progress on the way, runs that pipe.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:credential = Get-TestAdminCredential $pg
    New-TestDatabase $pg bl_src
    New-TestDatabase $pg bl_dst
    Invoke-TestSql $pg bl_src @'
CREATE TABLE orders (id bigint PRIMARY KEY, amount int NOT NULL);
INSERT INTO orders SELECT g, g % 100 FROM generate_series(1, 200000) g;
CREATE TABLE notes (id int PRIMARY KEY, body text);
INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 500) g;
ANALYZE;
'@
    $script:source = Get-TestUri $pg bl_src
    $script:target = Get-TestUri $pg bl_dst
}

AfterAll { if ($script:pg) { $pg.Dispose() } }

Describe 'Start-MoltBulkLoad' {
    It 'reports overall progress (tables done of total) with a child record per table' {
        $shell = [powershell]::Create()
        [void] $shell.AddScript({
                param($manifest, $source, $target, $credential)
                Import-Module $manifest
                Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential -TableHandling DropAndRecreate -Confirm:$false
            }).AddArgument((Get-BuiltMoltManifest)).AddArgument($source).AddArgument($target).AddArgument($credential)
        $output = $shell.Invoke()
        $progress = @($shell.Streams.Progress)
        $shell.Dispose()
        ($output | Where-Object { $_ -is [Molt.BulkLoadSummary] }).Status | Should -Be 'succeeded'
        $overall = @($progress | Where-Object { $_.Activity -eq 'Loading 2 tables' })
        $overall.Count | Should -BeGreaterThan 0
        $overall.StatusDescription | Should -Contain '2 of 2 tables done, 200,500 of ~200,500 rows'
        $overall[-1].RecordType | Should -Be 'Completed'
        $children = @($progress | Where-Object { $_.Activity -like 'Loading public.*' })
        $children.Count | Should -BeGreaterThan 0
        $children | ForEach-Object { $_.ParentActivityId | Should -Be $overall[0].ActivityId }
    }

    It 'records runs that pipe back into Get-MoltFetchStatus and Start-MoltBulkLoad -Resume' {
        Invoke-TestSql $pg bl_dst 'DROP TABLE IF EXISTS notes; CREATE TABLE notes (id int PRIMARY KEY, body text CHECK (body <> ''note 7''))'
        $first = Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential -Table notes `
            -TableHandling TruncateIfExists -FetchId piped-run -Confirm:$false -ErrorAction SilentlyContinue
        ($first | Where-Object { $_ -is [Molt.BulkLoadSummary] }).Status | Should -Be 'failed'

        $run = $first | Where-Object { $_ -is [Molt.BulkLoadSummary] } | Get-MoltFetchStatus -TargetCredential $credential
        $run.FetchId | Should -Be 'piped-run'
        $run.Target | Should -Be $target
        $run.FailedTables | Should -Be @('public.notes')
        $run.Exceptions[0] | Should -BeOfType ([Molt.LoadFailure])
        $run.Exceptions[0].Table | Should -Be 'public.notes'
        $run.Exceptions[0].Stage | Should -Be 'data_load'
        $run.Exceptions[0].SqlState | Should -Be '23514'
        "$($run.Exceptions[0])" | Should -Match 'public\.notes \[data_load\]'

        Invoke-TestSql $pg bl_dst 'ALTER TABLE notes DROP CONSTRAINT notes_body_check'
        $resumed = $run | Start-MoltBulkLoad -SourceCredential $credential -TargetCredential $credential -Table notes `
            -TableHandling TruncateIfExists -Resume -Confirm:$false
        ($resumed | Where-Object { $_ -is [Molt.BulkLoadSummary] }).Status | Should -Be 'succeeded'
        Get-TestScalar $pg bl_dst 'SELECT count(*) FROM notes' | Should -Be 500
    }

    It 'speaks one status vocabulary in table results, summaries and recorded runs' {
        $results = Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential -Table orders `
            -TableHandling TruncateIfExists -FetchId vocabulary-run -Force
        $table = $results | Where-Object { $_ -is [Molt.BulkLoadTableResult] }
        $summary = $results | Where-Object { $_ -is [Molt.BulkLoadSummary] }
        $run = Get-MoltFetchStatus -Target $target -TargetCredential $credential -FetchId vocabulary-run
        foreach ($status in $table.Status, $summary.Status, $run.Status) {
            $status | Should -BeOfType ([Molt.LoadStatus])
            "$status" | Should -BeExactly 'Succeeded'
        }
        (Compare-MoltData $source $target -SourceCredential $credential -TargetCredential $credential -Table orders).Status |
            Should -BeOfType ([Molt.ComparisonStatus])
    }

    It 'reports the replication slot it created, and how to drop it' {
        $warnings = $null
        $results = Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential -Table notes `
            -TableHandling TruncateIfExists -ReplicationSlot molt_slot_report -Force -WarningVariable warnings
        ($results | Where-Object { $_ -is [Molt.BulkLoadSummary] }).ReplicationSlot | Should -Be 'molt_slot_report'
        ($warnings -join "`n") | Should -Match ([regex]::Escape("pg_drop_replication_slot('molt_slot_report')"))
        Get-TestScalar $pg postgres "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'molt_slot_report'" | Should -Be 1
        Invoke-TestSql $pg postgres "SELECT pg_drop_replication_slot('molt_slot_report')"
    }
}
