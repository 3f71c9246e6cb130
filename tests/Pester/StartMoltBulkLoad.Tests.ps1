# Start-MoltBulkLoad's objects, -WhatIf and refusals, as a user sees them in pwsh.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:credential = Get-TestAdminCredential $pg

    # A source with two tables and an empty target, both new.
    function New-Databases([string] $Prefix) {
        New-TestDatabase $pg "${Prefix}_src"
        New-TestDatabase $pg "${Prefix}_dst"
        Invoke-TestSql $pg "${Prefix}_src" @'
CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2));
INSERT INTO items SELECT g, 'item ' || g, g / 100.0 FROM generate_series(1, 30000) g;
CREATE TABLE tags (tag text PRIMARY KEY);
INSERT INTO tags VALUES ('a'), ('b'), ('c');
ANALYZE;
'@
        [pscustomobject]@{ Source = Get-TestUri $pg "${Prefix}_src"; Target = Get-TestUri $pg "${Prefix}_dst"; TargetDatabase = "${Prefix}_dst" }
    }

    function Get-StateSchemaCount([string] $Database) {
        Get-TestScalar $pg $Database "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'"
    }
}

AfterAll { if ($script:pg) { $pg.Dispose() } }

Describe 'Start-MoltBulkLoad' {
    It 'writes one result per table, then a summary, with progress and verbose output and no password' {
        $pair = New-Databases 'ps_load'
        $shell = [powershell]::Create()
        [void] $shell.AddScript({
                param($manifest, $source, $target, $credential)
                Import-Module $manifest
                Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential -TableHandling DropAndRecreate -Force -ShardsPerTable 2 -Verbose
            }).AddArgument((Get-BuiltMoltManifest)).AddArgument($pair.Source).AddArgument($pair.Target).AddArgument($credential)
        $output = $shell.Invoke()
        $shell.Streams.Error | Should -BeNullOrEmpty
        $tables = @($output | Where-Object { $_ -is [Molt.BulkLoadTableResult] })
        ($tables.Table | Sort-Object) | Should -Be @('public.items', 'public.tags')
        $tables | ForEach-Object { $_.Status | Should -Be ([Molt.LoadStatus]::Succeeded) }
        ($tables | Where-Object Table -EQ 'public.items').Rows | Should -Be 30000
        $summary = @($output | Where-Object { $_ -is [Molt.BulkLoadSummary] })
        $summary.Count | Should -Be 1
        $output.Count | Should -Be ($tables.Count + 1)
        $summary[0].Status | Should -Be ([Molt.LoadStatus]::Succeeded)
        $summary[0].Rows | Should -Be 30003
        $summary[0].SnapshotPosition | Should -Match '^[0-9A-F]+/[0-9A-F]+$'
        $summary[0].Phases.Name | Should -Contain 'copy'
        ($tables | Where-Object Table -EQ 'public.items').PrimaryKey | Should -Match '^created with the table: ~30,000 estimated rows, under 100,000'
        $shell.Streams.Verbose.Count | Should -BeGreaterThan 0
        ($shell.Streams.Verbose.Message -join "`n") | Should -Match ' took [\d.]+ s: source catalog '
        $shell.Streams.Progress.Activity | Should -Contain 'Loading public.items'
        Get-TestScalar $pg $pair.TargetDatabase 'SELECT count(*) FROM items' | Should -Be 30000
        $everything = ($output | Format-List * -Force | Out-String) + ($shell.Streams.Verbose.Message -join "`n") + ($shell.Streams.Progress.StatusDescription -join "`n")
        $everything | Should -Not -Match ([regex]::Escape($pg.AdminPassword))
        $shell.Dispose()

        $run = Get-MoltFetchStatus -Target $pair.Target -TargetCredential $credential -FetchId $summary[0].FetchId
        $run.Status | Should -Be ([Molt.LoadStatus]::Succeeded)
        $run.ShardsDone | Should -Be $run.ShardsTotal
    }

    It '-WhatIf prints the plan and changes nothing' {
        $pair = New-Databases 'ps_whatif'
        Invoke-TestSql $pg $pair.TargetDatabase "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2)); INSERT INTO items VALUES (1, 'keep', 1)"
        $script = @'
$credential = [pscredential]::new($args[2], (ConvertTo-SecureString $args[3] -AsPlainText -Force))
$output = Start-MoltBulkLoad $args[0] $args[1] -SourceCredential $credential -TargetCredential $credential -TableHandling DropAndRecreate -WhatIf
"objects=$(@($output).Count)"
'@
        $child = Invoke-MoltChild -Script $script -ArgumentList $pair.Source, $pair.Target, $pg.AdminUser, $pg.AdminPassword
        $child.ExitCode | Should -Be 0
        $child.StdOut | Should -Match 'What if:'
        $child.StdOut | Should -Match 'public\.items -> public\.items'
        $child.StdOut | Should -Match 'DROP TABLE IF EXISTS "public"\."items"'
        $child.StdOut | Should -Match 'CREATE TABLE'
        $child.StdOut | Should -Match 'primary key: created with the table: ~30,000 estimated rows'
        $child.StdOut | Should -Match "check the plan's \d+ DDL statements on the target \(PostgreSQL\) in a transaction that is rolled back"
        $child.StdOut | Should -Match 'objects=0'
        Get-TestScalar $pg $pair.TargetDatabase 'SELECT name FROM items' | Should -Be 'keep'
        Get-StateSchemaCount $pair.TargetDatabase | Should -Be 0
    }

    It 'fails with TargetDdlRefused, naming the statement, when the target refuses a check of the plan, before anything is written' {
        $pair = New-Databases 'ps_refused'
        Invoke-TestSql $pg "ps_refused_src" @'
CREATE FUNCTION is_small(numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 < 1000';
ALTER TABLE items ADD CONSTRAINT items_price_small CHECK (is_small(price));
'@
        Invoke-TestSql $pg $pair.TargetDatabase "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2)); INSERT INTO items VALUES (1, 'keep', 1)"
        $record = $null
        try {
            Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $credential -TargetCredential $credential -TableHandling DropAndRecreate -Force -ErrorAction Stop
        } catch {
            $record = $_
        }
        $record.FullyQualifiedErrorId | Should -BeLike 'TargetDdlRefused,*'
        $record.CategoryInfo.Category | Should -Be 'MetadataError'
        $record.Exception.Message | Should -Match 'table public\.items, check constraint items_price_small: function is_small\(numeric\) does not exist'
        Get-TestScalar $pg $pair.TargetDatabase 'SELECT name FROM items' | Should -Be 'keep'
        Get-TestScalar $pg $pair.TargetDatabase "SELECT count(*) FROM pg_tables WHERE tablename = 'tags'" | Should -Be 0
        Get-StateSchemaCount $pair.TargetDatabase | Should -Be 0
    }

    It 'fails on a wrong target password before anything is written, never showing it' {
        $pair = New-Databases 'ps_badpw'
        $wrong = 'Not-The-Pa55word'
        $output = $null
        $record = $null
        try {
            $output = Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $credential -TargetCredential (New-TestCredential $pg.AdminUser $wrong)
        } catch {
            $record = $_
        }
        $output | Should -BeNullOrEmpty
        $record.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $record.FullyQualifiedErrorId | Should -BeLike 'AuthenticationFailed,*'
        ($record | Format-List * -Force | Out-String) | Should -Not -Match ([regex]::Escape($wrong))
        Get-StateSchemaCount $pair.TargetDatabase | Should -Be 0
    }

    It 'refuses parameters that cannot work together with <ErrorId>, before anything is written' -TestCases @(
        @{ Parameters = @{ ImportUrl = 'http://h:3000' }; ErrorId = 'ImportNeedsPath'; Prefix = 'ps_nopath' }
        @{ Parameters = @{ ImportPath = './files' }; ErrorId = 'ImportNeedsUrl'; Prefix = 'ps_nourl' }
        @{ Parameters = @{ ImportPath = './files'; ImportUrl = 'http://h:3000'; TableHandling = 'DropAndRecreate' }; ErrorId = 'ImportIntoNotSupported'; Prefix = 'ps_noimport' }
        @{ Parameters = @{ DeferPrimaryKey = $true }; ErrorId = 'DeferPrimaryKeyNeedsRecreate'; Prefix = 'ps_nodefer' }
    ) {
        param($Parameters, $ErrorId, $Prefix)
        $pair = New-Databases $Prefix
        $record = $null
        try {
            Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $credential -TargetCredential $credential @Parameters -Force -ErrorAction Stop
        } catch {
            $record = $_
        }
        $record.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-StateSchemaCount $pair.TargetDatabase | Should -Be 0
    }
}

Describe 'Start-MoltBulkLoad parameter conflicts' {
    It 'refuses <ErrorId> from the parameters alone, before connecting to either endpoint' -TestCases @(
        @{ Parameters = @{ Cascade = $true }; ErrorId = 'CascadeNeedsTableHandling' }
        @{ Parameters = @{ Cascade = $true; TableHandling = 'None' }; ErrorId = 'CascadeNeedsTableHandling' }
        @{ Parameters = @{ DeferPrimaryKey = $true; TableHandling = 'TruncateIfExists' }; ErrorId = 'DeferPrimaryKeyNeedsRecreate' }
        @{ Parameters = @{ DeferPrimaryKey = $true; TableHandling = 'None'; Resume = $true; FetchId = 'f1' }; ErrorId = 'DeferPrimaryKeyNeedsRecreate' }
        @{ Parameters = @{ Resume = $true }; ErrorId = 'ResumeNeedsFetchId' }
    ) {
        param($Parameters, $ErrorId)
        # Nothing listens on port 1: any attempt to connect would fail as ConnectionFailed instead.
        $record = $null
        try {
            Start-MoltBulkLoad 'postgres://app@127.0.0.1:1/src' 'postgres://app@127.0.0.1:1/dst' @Parameters -Force -ErrorAction Stop
        } catch {
            $record = $_
        }
        $record.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'leaves -Cascade on a resumed run without -TableHandling to the run''s recorded handling' {
        $record = $null
        try {
            Start-MoltBulkLoad 'postgres://app@127.0.0.1:1/src' 'postgres://app@127.0.0.1:1/dst' -Resume -FetchId f1 -Cascade -Force -ErrorAction Stop
        } catch {
            $record = $_
        }
        $record.CategoryInfo.Category | Should -Be 'ConnectionError'
    }
}
