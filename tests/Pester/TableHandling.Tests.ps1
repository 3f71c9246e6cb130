# -TableHandling TruncateIfExists and DropAndRecreate change target tables: they ask first under the default
# $ConfirmPreference (a plain append does not), -Force or -Confirm:$false let a script go on, a session that cannot ask
# fails at once, and -Cascade names everything outside the selection it takes along, in warnings and in -WhatIf.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres

    # Source and target each hold authors and books (books reference authors); the target's rows are stale and a
    # table outside the load, reviews, references books.
    function New-Library([string] $Name) {
        $tables = 'CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL); CREATE TABLE books (id int PRIMARY KEY, author_id int NOT NULL REFERENCES authors, title text NOT NULL);'
        New-TestDatabase $pg "${Name}_src"
        New-TestDatabase $pg "${Name}_dst"
        Invoke-TestSql $pg "${Name}_src" "$tables INSERT INTO authors VALUES (1, 'Woolf'); INSERT INTO books VALUES (10, 1, 'Orlando'), (11, 1, 'The Waves')"
        Invoke-TestSql $pg "${Name}_dst" "$tables INSERT INTO authors VALUES (99, 'stale'); INSERT INTO books VALUES (99, 99, 'stale');
            CREATE TABLE reviews (id int PRIMARY KEY, book_id int REFERENCES books, body text); INSERT INTO reviews VALUES (1, 99, 'kept');
            CREATE VIEW book_titles AS SELECT title FROM books"
        [pscustomobject]@{ Source = Get-TestUri $pg "${Name}_src"; Target = Get-TestUri $pg "${Name}_dst"; Database = "${Name}_dst" }
    }

    # A child pwsh -NonInteractive running one load of the library: $args are source, target, user, password.
    function Invoke-LoadChild([pscustomobject] $Library, [string] $Parameters) {
        $script = @"
`$credential = [pscredential]::new(`$args[2], (ConvertTo-SecureString `$args[3] -AsPlainText -Force))
Start-MoltBulkLoad `$args[0] `$args[1] -SourceCredential `$credential -TargetCredential `$credential -Table authors, books $Parameters 3>&1 |
    ForEach-Object { if (`$_ -is [System.Management.Automation.WarningRecord]) { "WARNING: `$(`$_.Message)" } else { "`$(`$_.PSObject.TypeNames[0]) `$(`$_.Status)" } }
"@
        Invoke-MoltChild -Script $script -ArgumentList $Library.Source, $Library.Target, $pg.AdminUser, $pg.AdminPassword -Timeout ([timespan]::FromMinutes(2))
    }

    function Get-StaleTitle([pscustomobject] $Library) { Get-TestScalar $pg $Library.Database 'SELECT title FROM books ORDER BY id LIMIT 1' }
}

AfterAll {
    if ($script:pg) { $pg.Dispose() }
}

Describe 'Confirming destructive table handling' {
    It 'fails at once in pwsh -NonInteractive without -Force, naming what to add, and changes nothing' {
        $library = New-Library 'noninteractive'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $child = Invoke-LoadChild $library '-TableHandling TruncateIfExists -Cascade'

        $child.TimedOut | Should -BeFalse
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 60
        $child.ExitCode | Should -Not -Be 0
        $child.StdErr | Should -Match 'asks first, but this session cannot ask'
        $child.StdErr | Should -Match '-Force'
        Get-StaleTitle $library | Should -Be 'stale'
        Get-TestScalar $pg $library.Database "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'" | Should -Be 0
        ($child.StdOut + $child.StdErr) | Should -Not -Match ([regex]::Escape($pg.AdminPassword))
    }

    It 'asks under the default $ConfirmPreference: a runspace that cannot ask gets ConfirmationRequired' {
        $library = New-Library 'noui'
        $credential = Get-TestAdminCredential $pg
        $shell = [powershell]::Create()
        [void] $shell.AddScript({
                param($manifest, $source, $target, $credential)
                Import-Module $manifest
                Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential -Table authors, books -TableHandling DropAndRecreate -Cascade
            }).AddArgument((Get-BuiltMoltManifest)).AddArgument($library.Source).AddArgument($library.Target).AddArgument($credential)
        $null = $shell.Invoke()
        $errors = @($shell.Streams.Error)
        $shell.Dispose()

        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ConfirmationRequired,*'
        $errors[0].ErrorDetails.RecommendedAction | Should -Match '-Force'
        Get-StaleTitle $library | Should -Be 'stale'
    }

    It 'runs without asking with -Force, and with -Confirm:$false, in pwsh -NonInteractive' {
        foreach ($parameters in '-Force', '-Confirm:$false') {
            $library = New-Library "unattended$($parameters -replace '\W', '')"
            Invoke-TestSql $pg $library.Database 'DROP TABLE reviews'
            $child = Invoke-LoadChild $library "-TableHandling TruncateIfExists -TableConcurrency 1 $parameters"

            $child.ExitCode | Should -Be 0 -Because $child.StdErr
            $child.StdOut | Should -Match 'Molt.BulkLoadSummary succeeded'
            Get-StaleTitle $library | Should -Be 'Orlando'
        }
    }

    It 'does not ask for a plain append, even in pwsh -NonInteractive' {
        $library = New-Library 'append'
        Invoke-TestSql $pg $library.Database 'TRUNCATE authors, books, reviews'
        $child = Invoke-LoadChild $library '-TableConcurrency 1'

        $child.ExitCode | Should -Be 0 -Because $child.StdErr
        $child.StdOut | Should -Match 'Molt.BulkLoadSummary succeeded'
        Get-TestScalar $pg $library.Database 'SELECT count(*) FROM books' | Should -Be 2
    }
}

Describe 'What table handling takes along outside the selection' {
    It 'refuses a TRUNCATE that another table''s foreign key blocks, naming it, before anything is written' {
        $library = New-Library 'refused'
        $child = Invoke-LoadChild $library '-TableHandling TruncateIfExists -Force'

        $child.ExitCode | Should -Not -Be 0
        $child.StdErr | Should -Match 'foreign keys of tables outside them.*"public"."reviews"'
        $child.StdErr | Should -Match '"reviews_book_id_fkey"'
        $child.StdErr | Should -Match '-Cascade'
        Get-StaleTitle $library | Should -Be 'stale'
        Get-TestScalar $pg $library.Database "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'" | Should -Be 0
    }

    It '-WhatIf -Cascade prints the DROP ... CASCADE and each view and foreign key it would take, and changes nothing' {
        $library = New-Library 'whatif'
        $child = Invoke-LoadChild $library '-TableHandling DropAndRecreate -Cascade -WhatIf'

        $child.ExitCode | Should -Be 0 -Because $child.StdErr
        $child.StdOut | Should -Match 'What if: Before any table: DROP TABLE IF EXISTS "public"."authors", "public"."books" CASCADE'
        $child.StdOut | Should -Match 'also drops: foreign key "reviews_book_id_fkey" of "public"."reviews"'
        $child.StdOut | Should -Match 'also drops: view "public"."book_titles"'
        $child.StdOut | Should -Not -Match 'WARNING'
        Get-StaleTitle $library | Should -Be 'stale'
        Get-TestScalar $pg $library.Database "SELECT count(*) FROM pg_class WHERE relname = 'book_titles'" | Should -Be 1
    }

    It '-Cascade empties the referencing tables and warns about each' {
        $library = New-Library 'cascade'
        $child = Invoke-LoadChild $library '-TableHandling TruncateIfExists -TableConcurrency 1 -Cascade -Force'

        $child.ExitCode | Should -Be 0 -Because $child.StdErr
        $child.StdOut | Should -Match 'WARNING: -Cascade also empties table "public"."reviews" \(its foreign key "reviews_book_id_fkey" references "public"."books"\)'
        Get-TestScalar $pg $library.Database 'SELECT count(*) FROM reviews' | Should -Be 0
        Get-StaleTitle $library | Should -Be 'Orlando'
    }
}
