# Compare-MoltData's differences by key, and Ctrl+C on a long comparison.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:credential = Get-TestAdminCredential $pg

    function New-Databases([string] $Prefix, [int] $Rows, [switch] $AlsoTarget) {
        New-TestDatabase $pg "${Prefix}_src"
        New-TestDatabase $pg "${Prefix}_dst"
        $setup = @"
CREATE TABLE items (id bigint PRIMARY KEY, name text);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, $Rows) g;
CREATE TABLE tags (tag text PRIMARY KEY);
INSERT INTO tags VALUES ('a'), ('b'), ('c');
"@
        Invoke-TestSql $pg "${Prefix}_src" $setup
        if ($AlsoTarget) { Invoke-TestSql $pg "${Prefix}_dst" $setup }
        [pscustomobject]@{ Source = Get-TestUri $pg "${Prefix}_src"; Target = Get-TestUri $pg "${Prefix}_dst"; TargetDatabase = "${Prefix}_dst" }
    }
}

AfterAll { if ($script:pg) { $pg.Dispose() } }

Describe 'Compare-MoltData differences' {
    It 'finds each planted difference by key after a load piped into it' {
        $pair = New-Databases 'cmpd' -Rows 1000
        $compared = Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $credential -TargetCredential $credential -TableHandling DropAndRecreate -Force |
            Compare-MoltData -SourceCredential $credential -TargetCredential $credential -ErrorAction Stop
        ($compared.Table | Sort-Object) | Should -Be @('public.items', 'public.tags')
        $compared | ForEach-Object { $_ | Should -BeOfType ([Molt.TableComparison]); $_.Status | Should -Be ([Molt.ComparisonStatus]::Equal) }

        Invoke-TestSql $pg $pair.TargetDatabase "UPDATE items SET name = 'renamed' WHERE id = 42; DELETE FROM tags WHERE tag = 'b'"
        $detailed = [pscustomobject]@{ Source = $pair.Source; Target = $pair.Target; Table = 'items', 'tags' } |
            Compare-MoltData -SourceCredential $credential -TargetCredential $credential -Detailed -ErrorAction Stop
        $differences = @($detailed | Where-Object { $_ -is [Molt.RowDifference] })
        $differences.Count | Should -Be 2
        $mismatch = $differences | Where-Object Kind -EQ 'Mismatch'
        $mismatch.Key | Should -Be 'id=42'
        $mismatch.Columns | Should -Be @('name')
        ($differences | Where-Object Kind -EQ 'Missing').Key | Should -Be 'tag=b'
        ($detailed | Where-Object { $_ -is [Molt.TableComparison] -and $_.Status -eq 'Different' }) | Should -Not -BeNullOrEmpty
        ($detailed | Format-List * -Force | Out-String) | Should -Not -Match ([regex]::Escape($pg.AdminPassword))
    }

    It 'stops a long comparison within seconds of Ctrl+C, leaving no connection behind' {
        $pair = New-Databases 'cmpstop' -Rows 1500000 -AlsoTarget
        $shell = [powershell]::Create()
        [void] $shell.AddScript({
                param($manifest, $source, $target, $credential)
                Import-Module $manifest
                Compare-MoltData $source $target -SourceCredential $credential -TargetCredential $credential -Table items
            }).AddArgument((Get-BuiltMoltManifest)).AddArgument($pair.Source).AddArgument($pair.Target).AddArgument($credential)
        $running = $shell.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ($shell.Streams.Progress.Count -eq 0 -and -not $running.IsCompleted -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $running.IsCompleted | Should -BeFalse -Because 'the comparison must still be running when it is stopped'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $shell.Stop()
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        $shell.InvocationStateInfo.State | Should -Be 'Stopped'
        $shell.Dispose()
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Get-TestScalar $pg postgres "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'molt%'") -gt 0) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'Compare-MoltData left connections open after it was stopped' }
            Start-Sleep -Milliseconds 50
        }
    }
}
