# -Resume continues the run recorded in the target: its tables and options come from _molt, not from the resuming
# command line's defaults; a resume that asks for something else is refused before anything is written; and the
# resumed tables report the rate of the attempt that loaded them.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:credential = Get-TestAdminCredential $pg

    # A run that failed: one row of accounts (30,000 rows, 3 shards) breaks the target's check, under -Table accounts.
    # notes exists on both sides but is not part of the run.
    function New-FailedRun([string] $Name) {
        New-TestDatabase $pg "${Name}_src"
        New-TestDatabase $pg "${Name}_dst"
        Invoke-TestSql $pg "${Name}_src" @'
CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
INSERT INTO accounts SELECT g, CASE WHEN g = 25000 THEN -5 ELSE g END FROM generate_series(1, 30000) g;
CREATE TABLE notes (id int PRIMARY KEY);
INSERT INTO notes SELECT generate_series(1, 10);
ANALYZE;
'@
        Invoke-TestSql $pg "${Name}_dst" 'CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL CONSTRAINT positive CHECK (balance >= 0)); CREATE TABLE notes (id int PRIMARY KEY)'
        $pair = [pscustomobject]@{ Source = Get-TestUri $pg "${Name}_src"; Target = Get-TestUri $pg "${Name}_dst"; TargetDatabase = "${Name}_dst" }
        $first = Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $credential -TargetCredential $credential -Table accounts `
            -ShardsPerTable 3 -FetchId $Name -ErrorAction SilentlyContinue
        ($first | Select-Object -Last 1).Status | Should -Be 'failed'
        $pair
    }
}

AfterAll {
    if ($script:pg) { $pg.Dispose() }
}

Describe 'Resuming a load' {
    It '-FetchId and -Resume alone continue the recorded tables, and the rate counts only the rows this attempt loaded' {
        $pair = New-FailedRun 'bare'
        $doneRows = Get-TestScalar $pg $pair.TargetDatabase "SELECT sum(rows_loaded)::bigint FROM _molt.fetch_shards WHERE status = 'done'"
        $doneRows | Should -BeGreaterThan 0
        Invoke-TestSql $pg $pair.TargetDatabase 'ALTER TABLE accounts DROP CONSTRAINT positive'

        $output = Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $credential -TargetCredential $credential -FetchId bare -Resume

        $tables = @($output | Where-Object { $_ -is [Molt.BulkLoadTableResult] })
        $tables.Table | Should -Be @('public.accounts')
        $tables[0].Rows | Should -Be 30000
        $tables[0].RowsPerSecond | Should -Be ([Math]::Round((30000 - $doneRows) / $tables[0].Duration.TotalSeconds))
        $summary = $output | Where-Object { $_ -is [Molt.BulkLoadSummary] }
        $summary.Status | Should -Be 'succeeded'
        $summary.FailedTables | Should -BeNullOrEmpty
        $summary.PendingTables | Should -BeNullOrEmpty
        $summary.RowsPerSecond | Should -Be ([Math]::Round((30000 - $doneRows) / $summary.Duration.TotalSeconds))
        Get-TestScalar $pg $pair.TargetDatabase 'SELECT count(*) FROM notes' | Should -Be 0
    }

    It 'a resume that names another selection is refused with the recorded one, before anything is written' {
        $pair = New-FailedRun 'differs'
        $shards = Get-TestScalar $pg $pair.TargetDatabase "SELECT string_agg(shard || status, ',' ORDER BY shard) FROM _molt.fetch_shards"

        $caught = $null
        try {
            Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $credential -TargetCredential $credential -FetchId differs -Resume `
                -TableHandling TruncateIfExists -Confirm:$false -ErrorAction Stop
        } catch {
            $caught = $_
        }

        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'ResumeSelectionDiffers*'
        $caught.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $caught.Exception.Message | Should -Match "-TableHandling: the run's is None, this one's TruncateIfExists"
        $caught.ErrorDetails.RecommendedAction | Should -Match '-Resume'
        Get-TestScalar $pg $pair.TargetDatabase 'SELECT count(*) FROM accounts' | Should -BeGreaterThan 0
        Get-TestScalar $pg $pair.TargetDatabase "SELECT string_agg(shard || status, ',' ORDER BY shard) FROM _molt.fetch_shards" | Should -Be $shards
        (Get-MoltFetchStatus -Target $pair.Target -TargetCredential $credential -FetchId differs).Status | Should -Be 'failed'
    }

    It 'a run piped from Get-MoltFetchStatus resumes with its recorded table handling' {
        New-TestDatabase $pg 'piped_src'
        New-TestDatabase $pg 'piped_dst'
        Invoke-TestSql $pg 'piped_src' 'CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept SELECT generate_series(1, 5); CREATE TABLE other (id int PRIMARY KEY)'
        # -Confirm declines nothing here; a run left unfinished is made by failing its only table's shard on the source.
        Invoke-TestSql $pg 'piped_src' "CREATE TABLE broken (id int PRIMARY KEY, n text NOT NULL); INSERT INTO broken VALUES (1, 'one')"
        $typeMap = Join-Path $TestDrive 'types.json'
        '[{"table": "public.broken", "column_type_map": [{"column": "n", "target_type": "int"}]}]' | Set-Content $typeMap
        $source = Get-TestUri $pg 'piped_src'
        $target = Get-TestUri $pg 'piped_dst'
        $null = Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential -Table kept, broken `
            -TableHandling DropAndRecreate -TypeMapFile $typeMap -FetchId piped -Confirm:$false -ErrorAction SilentlyContinue
        Invoke-TestSql $pg 'piped_src' "UPDATE broken SET n = '1'"

        $summary = Get-MoltFetchStatus -Target $target -TargetCredential $credential -FetchId piped |
            Start-MoltBulkLoad -SourceCredential $credential -TargetCredential $credential -Resume -Confirm:$false |
            Where-Object { $_ -is [Molt.BulkLoadSummary] }

        $summary.Status | Should -Be 'succeeded'
        Get-TestScalar $pg 'piped_dst' 'SELECT n FROM broken' | Should -Be 1
        Get-TestScalar $pg 'piped_dst' "SELECT to_regclass('public.other') IS NULL" | Should -BeTrue
    }
}
