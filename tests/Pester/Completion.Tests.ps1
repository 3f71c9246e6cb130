# Tab completion asks the databases named on the command line, as a user at a prompt would expect.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:c = Get-TestAdminCredential $pg
    New-TestDatabase $pg comp_src
    New-TestDatabase $pg comp_dst
    Invoke-TestSql $pg comp_src 'CREATE SCHEMA sales; CREATE TABLE sales.orders (id int PRIMARY KEY); CREATE TABLE sales.order_items (id int PRIMARY KEY); CREATE TABLE public."Odd Name" (id int PRIMARY KEY)'
    $script:src = Get-TestUri $pg comp_src
    $script:dst = Get-TestUri $pg comp_dst
    Start-MoltBulkLoad $src $dst -SourceCredential $c -TargetCredential $c -Schema sales -TableHandling DropAndRecreate -FetchId completion-run -Confirm:$false | Out-Null

    function Get-Completions([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText
    }
}

AfterAll { if ($script:pg) { $pg.Dispose() } }

Describe 'Argument completion' {
    It 'completes -Table from the source catalog, quoting names that need it' {
        Get-Completions "Start-MoltBulkLoad -Source '$src' -SourceCredential `$c -Target '$dst' -Table ord" | Should -Be @('orders', 'order_items')
        Get-Completions "Compare-MoltData '$src' '$dst' -SourceCredential `$c -Table Od" | Should -Be @("'Odd Name'")
    }

    It 'completes -Schema from the source catalog' {
        Get-Completions "Start-MoltBulkLoad -Source '$src' -SourceCredential `$c -Target '$dst' -Schema sa" | Should -Be @('sales')
    }

    It 'completes -FetchId from the runs recorded in the target' {
        Get-Completions "Get-MoltFetchStatus -Target '$dst' -TargetCredential `$c -FetchId comp" | Should -Be @('completion-run')
        Get-Completions "Start-MoltBulkLoad '$src' '$dst' -SourceCredential `$c -TargetCredential `$c -FetchId c" | Should -Be @('completion-run')
    }

    It 'offers nothing, without an error, when it cannot connect' {
        Get-Completions "Get-MoltFetchStatus -Target 'postgres://nobody@127.0.0.1:1/x' -FetchId c" | Should -BeNullOrEmpty
    }
}
