# MySQL/MariaDB zero dates as a DBA meets them through Start-MoltBulkLoad -ZeroDateHandling: a NOT NULL column holding
# them is refused while planning with an error record that names it and the choices; DropNotNull warns of each column
# it makes nullable; Sentinel loads '0001-01-01', which Compare-MoltData -ZeroDateHandling Sentinel finds equal.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:maria = Start-TestMariaDb
    $script:pg = Start-TestPostgres
    $script:sourceCredential = Get-TestAdminCredential $maria
    $script:targetCredential = Get-TestAdminCredential $pg
    $script:count = 0

    # A source database with zero dates in NOT NULL columns, and an empty target database.
    function New-ZeroDatePair {
        $script:count++
        $name = "zd$script:count"
        Invoke-TestSql $maria '' "CREATE DATABASE $name"
        Invoke-TestSql $maria $name @"
SET SESSION sql_mode = '';
CREATE TABLE orders (id INT PRIMARY KEY, placed DATE NOT NULL, shipped DATETIME NOT NULL, touched DATE NOT NULL);
INSERT INTO orders VALUES (1, '2024-05-01', '2024-05-01 10:00:00', '2024-05-01'), (2, '2024-00-10', '0000-00-00 00:00:00', '2024-05-02');
"@
        New-TestDatabase $pg $name
        [pscustomobject]@{ Name = $name; Source = Get-TestUri $maria $name; Target = Get-TestUri $pg $name }
    }

    function Get-LoadError([scriptblock] $Load) {
        try {
            & $Load
        } catch {
            return $_
        }
        throw 'The load was expected to fail.'
    }
}

AfterAll {
    if ($script:maria) { $maria.Dispose() }
    if ($script:pg) { $pg.Dispose() }
}

Describe 'Start-MoltBulkLoad -ZeroDateHandling' {
    It 'refuses NOT NULL columns holding zero dates while planning, naming each and the choices, and writes nothing' {
        $pair = New-ZeroDatePair
        $record = Get-LoadError {
            Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $sourceCredential -TargetCredential $targetCredential `
                -TableHandling DropAndRecreate -Confirm:$false -ErrorAction Stop
        }
        $record.FullyQualifiedErrorId | Should -BeLike 'ZeroDatesInNotNullColumns,*'
        $record.CategoryInfo.Category | Should -Be 'MetadataError'
        "$record" | Should -Match ([regex]::Escape("$($pair.Name).orders.placed"))
        "$record" | Should -Match ([regex]::Escape("$($pair.Name).orders.shipped"))
        "$record" | Should -Not -Match 'touched'
        $record.ErrorDetails.RecommendedAction | Should -Match '-ZeroDateHandling: DropNotNull .*Sentinel .*Reject'
        ($record | Format-List * -Force | Out-String) | Should -Not -Match ([regex]::Escape($maria.AdminPassword))
        Get-TestScalar $pg $pair.Name "SELECT count(*) FROM information_schema.tables WHERE table_schema IN ('public', '_molt')" | Should -Be 0
    }

    It 'refuses DropNotNull when the tables are not created by the load' {
        $pair = New-ZeroDatePair
        $record = Get-LoadError {
            Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $sourceCredential -TargetCredential $targetCredential `
                -ZeroDateHandling DropNotNull -TableHandling TruncateIfExists -Confirm:$false -ErrorAction Stop
        }
        $record.FullyQualifiedErrorId | Should -BeLike 'DropNotNullNeedsRecreate,*'
        $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $record.ErrorDetails.RecommendedAction | Should -Match '-TableHandling DropAndRecreate'
    }

    It 'DropNotNull warns of each column it creates nullable, and the summary counts the bytes written' {
        $pair = New-ZeroDatePair
        $output = Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $sourceCredential -TargetCredential $targetCredential `
            -ZeroDateHandling DropNotNull -TableHandling DropAndRecreate -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue
        $summary = $output | Where-Object { $_ -is [Molt.BulkLoadSummary] }
        $summary.Status | Should -Be 'Succeeded'
        $summary.Bytes | Should -BeGreaterThan 0
        ($output | Where-Object { $_ -is [Molt.BulkLoadTableResult] }).Bytes | Should -Be $summary.Bytes
        @($warnings | Where-Object { "$_" -match 'orders\.placed' -and "$_" -match 'nullable' }).Count | Should -Be 1
        @($warnings | Where-Object { "$_" -match 'orders\.shipped' -and "$_" -match 'nullable' }).Count | Should -Be 1
        @($warnings | Where-Object { "$_" -match 'touched' }).Count | Should -Be 0
        Get-TestScalar $pg $pair.Name "SELECT string_agg(column_name || '=' || is_nullable, ' ' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'orders'" |
            Should -Be 'id=NO placed=YES shipped=YES touched=NO'
    }

    It 'Sentinel loads 0001-01-01, and Compare-MoltData agrees when given the same handling' {
        $pair = New-ZeroDatePair
        $summary = Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $sourceCredential -TargetCredential $targetCredential `
            -ZeroDateHandling Sentinel -TableHandling DropAndRecreate -Confirm:$false | Where-Object { $_ -is [Molt.BulkLoadSummary] }
        $summary.Status | Should -Be 'Succeeded'
        Get-TestScalar $pg $pair.Name "SELECT placed || '|' || shipped FROM orders WHERE id = 2" | Should -Be '0001-01-01|0001-01-01 00:00:00'

        $told = Compare-MoltData $pair.Source $pair.Target -SourceCredential $sourceCredential -TargetCredential $targetCredential -ZeroDateHandling Sentinel
        $told.Status | Should -Be 'Equal'
        $untold = Compare-MoltData $pair.Source $pair.Target -SourceCredential $sourceCredential -TargetCredential $targetCredential
        $untold.Mismatched | Should -Be 1
    }
}
