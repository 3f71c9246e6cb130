# Molt's default views, as a user sees them in an 80-column console: every line fits, and the columns that matter
# are there with their values.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:credential = Get-TestAdminCredential $pg
    New-TestDatabase $pg fmt_src
    New-TestDatabase $pg fmt_dst
    Invoke-TestSql $pg fmt_src "CREATE TABLE customer_order_items (id bigint PRIMARY KEY, note text); INSERT INTO customer_order_items SELECT g, 'n' || g FROM generate_series(1, 25000) g"
    $script:source = Get-TestUri $pg fmt_src
    $script:target = Get-TestUri $pg fmt_dst
    $script:load = Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential -TableHandling DropAndRecreate -Confirm:$false
    Invoke-TestSql $pg fmt_dst "UPDATE customer_order_items SET note = 'changed' WHERE id = 7"

    function Format-AtEighty($InputObject) {
        $text = $InputObject | Out-String -Width 80
        foreach ($line in $text -split '\r?\n') {
            $line.TrimEnd().Length | Should -BeLessOrEqual 80 -Because "this line must fit 80 columns: '$line'"
        }
        $text
    }
}

AfterAll { if ($script:pg) { $pg.Dispose() } }

Describe 'Default views at 80 columns' {
    It 'shows a table result with its rows, rate, duration and shards' {
        $text = Format-AtEighty ($load | Where-Object { $_ -is [Molt.BulkLoadTableResult] })
        $text | Should -Match 'Table\s+Status\s+Rows\s+Rows/s\s+Duration\s+Shards'
        $text | Should -Match 'public\.customer_order_items\s+Succeeded\s+25,000'
    }

    It 'shows the load summary as a list' {
        $text = Format-AtEighty ($load | Where-Object { $_ -is [Molt.BulkLoadSummary] })
        $text | Should -Match 'FetchId\s+: [0-9a-f-]{36}'
        $text | Should -Match 'Rows\s+: 25,000'
    }

    It 'shows comparisons and differences' {
        $comparison = Compare-MoltData $source $target -SourceCredential $credential -TargetCredential $credential -Detailed
        $text = Format-AtEighty ($comparison | Where-Object { $_ -is [Molt.TableComparison] })
        $text | Should -Match 'Table\s+Status\s+SourceRows\s+Missing\s+Extra\s+Mismatched'
        $text | Should -Match 'public\.customer_order_items\s+\w+\s+25,000\s+0\s+0\s+1'
        $difference = Format-AtEighty ($comparison | Where-Object { $_ -is [Molt.RowDifference] })
        $difference | Should -Match '7\s+\w+\s+note'
    }

    It 'shows the runs of a target' {
        $text = Format-AtEighty (Get-MoltFetchStatus -Target $target -TargetCredential $credential)
        $text | Should -Match 'FetchId\s+Status\s+Started \(UTC\)\s+Shards'
        $text | Should -Match '\d+/\d+'
    }

    It 'shows connection checks, with the remedy of a failed one' {
        $checks = Test-MoltConnection -Source $source -SourceCredential $credential -For Replication -ErrorAction SilentlyContinue
        $text = Format-AtEighty $checks
        $text | Should -Match 'Check\s+Passed\s+Detail'
        $text | Should -Match 'Connection\s+True'
    }
}
