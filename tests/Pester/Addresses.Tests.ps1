# Addresses as a user types them: an error names the side that failed with its address but never a password, in
# any rendering PowerShell offers; a source and a target that are one database are refused however they are spelled.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:admin = Get-TestAdminCredential $pg
    # '@', ':' and '/' are the characters that break a URI's user information when they are not percent-encoded.
    $script:password = 'p@ss:w/rd'
    $script:encoded = [uri]::EscapeDataString($password)
    $script:port = $pg.Port
    Invoke-TestSql $pg postgres "CREATE ROLE app_pw LOGIN PASSWORD 'p@ss:w/rd'"
    foreach ($database in 'shop', 'other') {
        New-TestDatabase $pg $database
        Invoke-TestSql $pg $database 'CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, ''a''); GRANT SELECT ON items TO app_pw'
    }

    # Runs a command that fails, and returns its error record with every text PowerShell renders it as.
    function Get-MoltError([scriptblock] $Command) {
        $global:Error.Clear()
        try { $null = & $Command } catch { }
        $global:Error.Count | Should -BeGreaterThan 0 -Because 'the command must fail'
        $record = $global:Error[0]
        if ($record -isnot [System.Management.Automation.ErrorRecord]) { $record = $record.ErrorRecord }
        $renderings = @(
            $record.ToString()
            $record.Exception.ToString()
            [string] $record.TargetObject
            $record.CategoryInfo.ToString()
            [string] $record.ErrorDetails
            $(if ($record.ErrorDetails) { $record.ErrorDetails.RecommendedAction })
            $global:Error[0] | Format-List * -Force | Out-String -Width 4096
            Get-Error | Out-String -Width 4096
        )
        [pscustomobject]@{ Record = $record; Text = $renderings -join "`n" }
    }

    function Assert-NoPassword([string] $Text) {
        foreach ($piece in $password, 'p@ss', 'ss:w', 'w/rd', $encoded, 'p%40ss', 'w%2Frd') {
            $Text.Contains($piece) | Should -BeFalse -Because "no part of the password ('$piece') may be shown"
        }
    }
}

AfterAll {
    if ($script:pg) { $pg.Dispose() }
}

Describe 'Error records never show a password' {
    It 'an unencoded @ : / in a -Source URI password is InvalidAddress, naming the source and echoing nothing after the scheme' {
        $source = "postgres://app:$password@127.0.0.1:$port/shop?sslmode=disable"
        $failure = Get-MoltError { Test-MoltConnection -Source $source -ErrorAction SilentlyContinue }
        $failure.Record.FullyQualifiedErrorId | Should -BeLike 'InvalidAddress,*'
        $failure.Record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failure.Record.TargetObject | Should -Be 'source postgres://***'
        $failure.Record.ErrorDetails.RecommendedAction | Should -Match 'Percent-encode'
        $failure.Record.ErrorDetails.RecommendedAction | Should -Match '-SourceCredential'
        Assert-NoPassword $failure.Text
        $failure.Text | Should -Not -Match 'rd@127'
    }

    It 'the same in a -Target URI of Start-MoltBulkLoad names the target' {
        $target = "postgres://app:$password@127.0.0.1:$port/other"
        $failure = Get-MoltError { Start-MoltBulkLoad (Get-TestUri $pg shop) $target -SourceCredential $admin -Confirm:$false }
        $failure.Record.FullyQualifiedErrorId | Should -BeLike 'InvalidAddress,*'
        $failure.Record.TargetObject | Should -Be 'target postgres://***'
        $failure.Record.ErrorDetails.RecommendedAction | Should -Match '-TargetCredential'
        Assert-NoPassword $failure.Text
    }

    It 'a refused login through a connection string with a quoted password names the source by its redacted URI' {
        $source = "Host=127.0.0.1;Port=$port;Database=shop;Username=app_pw;Password=`"$password;x`";SSL Mode=Disable"
        $failure = Get-MoltError { Compare-MoltData -Source $source -Target (Get-TestUri $pg other) -TargetCredential $admin -ErrorAction SilentlyContinue }
        $failure.Record.FullyQualifiedErrorId | Should -BeLike 'AuthenticationFailed,*'
        $failure.Record.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $failure.Record.TargetObject | Should -BeLike "source postgres://app_pw@127.0.0.1:$port/shop*"
        $failure.Record.Exception.Message | Should -Match 'the source PostgreSQL'
        Assert-NoPassword $failure.Text
    }

    It 'a refused login with a percent-encoded password in the URI names the side without the password' {
        $source = "postgres://molt_admin:$encoded@127.0.0.1:$port/shop?sslmode=disable"
        $failure = Get-MoltError { Start-MoltBulkLoad $source (Get-TestUri $pg other) -TargetCredential $admin -Confirm:$false }
        $failure.Record.FullyQualifiedErrorId | Should -BeLike 'AuthenticationFailed,*'
        $failure.Record.TargetObject | Should -Be "source postgres://molt_admin@127.0.0.1:$port/shop?sslmode=disable"
        Assert-NoPassword $failure.Text
    }

    It 'an unreachable server is a ConnectionError whose target is the redacted address' {
        $failure = Get-MoltError { Test-MoltConnection -Source "postgres://app:$encoded@127.0.0.1:1/shop" -ErrorAction SilentlyContinue }
        $failure.Record.FullyQualifiedErrorId | Should -BeLike 'ConnectionFailed,*'
        $failure.Record.TargetObject | Should -Be 'source postgres://app@127.0.0.1:1/shop'
        Assert-NoPassword $failure.Text
    }

    It 'a malformed connection string with an unclosed quoted password is InvalidAddress with the password hidden' {
        $failure = Get-MoltError { Get-MoltFetchStatus -Target "Host=127.0.0.1;Port=$port;Password=`"$password" -ErrorAction SilentlyContinue }
        $failure.Record.FullyQualifiedErrorId | Should -BeLike 'InvalidAddress,*'
        $failure.Record.TargetObject | Should -Be "target Host=127.0.0.1;Port=$port;Password=***"
        Assert-NoPassword $failure.Text
    }
}

Describe 'Which targets a load accepts' {
    It 'refuses a <Spelling> target before connecting to anything' -ForEach @(
        @{ Spelling = 'mysql://'; Target = 'mysql://app:{0}@127.0.0.1:3306/shop' }
        @{ Spelling = 'mariadb://'; Target = 'mariadb://app:{0}@127.0.0.1:3306/shop' }
        @{ Spelling = 'Engine=MySQL'; Target = 'Engine=MySQL;Server=127.0.0.1;Database=shop;Uid=app;Pwd={0}' }
    ) {
        # The source is unreachable: anything that connected first would fail with ConnectionFailed instead.
        $failure = Get-MoltError { Start-MoltBulkLoad 'postgres://app@127.0.0.1:1/shop' ($Target -f $encoded) -Confirm:$false }
        $failure.Record.FullyQualifiedErrorId | Should -BeLike 'UnsupportedTarget,*'
        $failure.Record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failure.Record.TargetObject | Should -BeLike 'target m*'
        Assert-NoPassword $failure.Text
    }

    It 'warns that a cockroachdb:// target which is PostgreSQL is loaded with the PostgreSQL dialect' {
        $target = (Get-TestUri $pg other) -replace '^postgres://', 'cockroachdb://'
        $null = Start-MoltBulkLoad (Get-TestUri $pg shop) $target -SourceCredential $admin -TargetCredential $admin -WhatIf `
            -WarningVariable warnings -WarningAction SilentlyContinue
        ($warnings -join "`n") | Should -Match 'PostgreSQL dialect'
    }
}

Describe 'A source and a target that are one database' {
    BeforeAll {
        # One database, spelled two ways: a URI to 127.0.0.1 and a connection string to localhost, as another user.
        $script:sameSource = "postgres://app_pw:$encoded@127.0.0.1:$port/shop?sslmode=disable"
        $script:sameTarget = "Host=localhost;Port=$port;Database=shop;Username=molt_admin;SSL Mode=Disable"
    }

    It 'Start-MoltBulkLoad refuses them with SourceIsTarget before writing anything' {
        $failure = Get-MoltError { Start-MoltBulkLoad $sameSource $sameTarget -TargetCredential $admin -TableHandling DropAndRecreate -Confirm:$false }
        $failure.Record.FullyQualifiedErrorId | Should -BeLike 'SourceIsTarget,*'
        $failure.Record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failure.Record.TargetObject | Should -BeLike "target postgres://molt_admin@localhost:$port/shop*"
        Assert-NoPassword $failure.Text
        Get-TestScalar $pg shop "SELECT count(*) FROM pg_namespace WHERE nspname = '_molt'" | Should -Be 0
        Get-TestScalar $pg shop 'SELECT count(*) FROM items' | Should -Be 1
    }

    It 'Compare-MoltData refuses them with SourceIsTarget instead of finding them equal' {
        Compare-MoltData $sameSource $sameTarget -TargetCredential $admin -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failure = Get-MoltError { Compare-MoltData $sameSource $sameTarget -TargetCredential $admin -ErrorAction SilentlyContinue }
        $failure.Record.FullyQualifiedErrorId | Should -BeLike 'SourceIsTarget,*'
        Assert-NoPassword $failure.Text
    }

    It 'Test-MoltConnection reports them in a failed DistinctFromSource check, and passes it for another database' {
        $same = Test-MoltConnection $sameSource $sameTarget -TargetCredential $admin
        $check = $same | Where-Object Check -EQ DistinctFromSource
        $check.Passed | Should -BeFalse
        $check.Role | Should -Be 'Target'
        $check.Remedy | Should -Not -BeNullOrEmpty
        (($same | Out-String -Width 4096) + ($same | Format-List * | Out-String -Width 4096)) | Should -Not -Match ([regex]::Escape($encoded))

        $other = Test-MoltConnection $sameSource ($sameTarget -replace 'Database=shop', 'Database=other') -TargetCredential $admin
        ($other | Where-Object Check -EQ DistinctFromSource).Passed | Should -BeTrue
    }
}
