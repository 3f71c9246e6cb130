# Test-MoltConnection as a DBA runs it before a migration: each check named, passed or failed with a remedy, and
# connection failures as error records with real categories that never show a password.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:maria = Start-TestMariaDb
    $script:pgAdmin = Get-TestAdminCredential $pg
    $script:mariaAdmin = Get-TestAdminCredential $maria

    function Get-ClosedPort {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
    }
}

AfterAll {
    if ($script:pg) { $pg.Dispose() }
    if ($script:maria) { $maria.Dispose() }
}

Describe 'Test-MoltConnection' {
    It 'passes every replication check of a PostgreSQL source' {
        $checks = Test-MoltConnection -Source (Get-TestUri $pg) -SourceCredential $pgAdmin -For Replication -ErrorAction Stop
        $checks.Check | Should -Be @('Connection', 'ServerVersion', 'SnapshotExport', 'WalLevel', 'ReplicationPrivilege', 'ReplicationSlots', 'WalSenders', 'PublicationPrivilege')
        $checks | ForEach-Object { $_.Passed | Should -BeTrue -Because "$_"; $_.Server | Should -Be 'PostgreSQL' }
        $checks[0].Version | Should -BeLike '15.*'
    }

    It 'checks that a PostgreSQL target can hold the state schema' {
        $checks = Test-MoltConnection -Source (Get-TestUri $maria) -SourceCredential $mariaAdmin -Target (Get-TestUri $pg) -TargetCredential $pgAdmin -ErrorAction Stop
        $state = @($checks | Where-Object Check -EQ 'StateSchema')
        $state.Count | Should -Be 1
        $state[0].Passed | Should -BeTrue
        $state[0].Role | Should -Be 'Target'
        $checks | Where-Object { $_.Role -eq 'Source' -and $_.Server -eq 'MariaDB' -and $_.Check -eq 'ConsistentSnapshot' -and $_.Passed } | Should -Not -BeNullOrEmpty
    }

    It 'fails a PostgreSQL without logical WAL and a user without REPLICATION, with remedies' {
        $replica = Start-TestPostgres -Settings @{ wal_level = 'replica' }
        try {
            $null = Wait-Task ($replica.CreateRoleAsync('app_reader', 'Reader-pw-1', $false, $false, [System.Threading.CancellationToken]::None))
            $checks = Test-MoltConnection -Source (Get-TestUri $replica -User app_reader) -SourceCredential (New-TestCredential app_reader 'Reader-pw-1') -For Replication -ErrorAction Stop
            $byName = @{}; $checks | ForEach-Object { $byName[$_.Check] = $_ }
            $byName.WalLevel.Passed | Should -BeFalse
            $byName.WalLevel.Detail | Should -Be 'wal_level = replica'
            $byName.WalLevel.Remedy | Should -Match 'wal_level = logical'
            $byName.ReplicationPrivilege.Passed | Should -BeFalse
            $byName.ReplicationPrivilege.Remedy | Should -Match 'WITH REPLICATION'
            $byName.Connection.Passed | Should -BeTrue
            $byName.Connection.Remedy | Should -BeNullOrEmpty
        } finally {
            $replica.Dispose()
        }
    }

    It 'passes every replication check of a MariaDB source' {
        $checks = Test-MoltConnection -Source (Get-TestUri $maria) -SourceCredential $mariaAdmin -For Replication -ErrorAction Stop
        $checks.Check | Should -Be @('Connection', 'ServerVersion', 'ConsistentSnapshot', 'BinaryLog', 'BinlogFormat', 'BinlogRowImage', 'BinlogRowMetadata', 'GtidMode', 'ReplicationGrants', 'BinlogRetention', 'ServerId')
        $checks | ForEach-Object { $_.Passed | Should -BeTrue -Because "$_"; $_.Server | Should -Be 'MariaDB' }
        # The harness's MariaDB keeps the default binlog_row_metadata = NO_LOG: it works, at a cost the warning names.
        $warned = @($checks | Where-Object Warning)
        $warned.Check | Should -Be @('BinlogRowMetadata')
        $warned[0].Detail | Should -BeLike 'binlog_row_metadata = NO_LOG: column names*'
        $warned[0].Remedy | Should -Match "binlog_row_metadata = 'FULL'"
    }

    It 'fails what breaks replication from a misconfigured MariaDB and an unprivileged user, and warns of what costs, with remedies' {
        $settings = [System.Collections.Generic.Dictionary[string, string]]::new()
        $settings['binlog-expire-logs-seconds'] = '7200'
        $misconfigured = Wait-Task ([Molt.Testing.MariaDbServer]::StartAsync(
                [Molt.Testing.MariaDbServerOptions]@{ BinlogFormat = 'STATEMENT'; BinlogRowImage = 'MINIMAL'; GtidStrictMode = $false; ExtraSettings = $settings },
                [System.Threading.CancellationToken]::None))
        try {
            $null = Wait-Task ($misconfigured.CreateUserAsync('reader', 'Reader-pw-1', [string[]] @('SELECT ON *.*')))
            $checks = Test-MoltConnection -Source (Get-TestUri $misconfigured -User reader) -SourceCredential (New-TestCredential reader 'Reader-pw-1') -For Replication -ErrorAction Stop
            $failed = @($checks | Where-Object { -not $_.Passed })
            ($failed.Check | Sort-Object) | Should -Be @('BinlogFormat', 'ReplicationGrants')
            ($failed | Where-Object Check -EQ BinlogFormat).Detail | Should -Be 'binlog_format = STATEMENT'
            ($failed | Where-Object Check -EQ ReplicationGrants).Remedy | Should -Be 'GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO <user>;'
            $warned = @($checks | Where-Object Warning)
            ($warned.Check | Sort-Object) | Should -Be @('BinlogRetention', 'BinlogRowImage', 'BinlogRowMetadata', 'GtidMode')
            $warned | ForEach-Object { $_.Passed | Should -BeTrue; $_.Remedy | Should -Not -BeNullOrEmpty -Because $_.Check; "$_" | Should -Match 'passed with a warning' }
            ($warned | Where-Object Check -EQ BinlogRowImage).Detail | Should -Match 'tables without a primary key are refused'
            ($warned | Where-Object Check -EQ BinlogRetention).Detail | Should -BeLike 'binlog_expire_logs_seconds = 7200: binlogs expire after 2 h*'
            ($warned | Where-Object Check -EQ BinlogRetention).Remedy | Should -Match 'binlog_expire_logs_seconds = 604800'
        } finally {
            $misconfigured.Dispose()
        }
    }

    It 'reports a wrong password as an AuthenticationError that never shows the password, with -Verbose and -Debug' {
        $wrong = 'Wr0ng-Pa55word!'
        foreach ($server in $pg, $maria) {
            $errors = $null
            $output = Test-MoltConnection -Source (Get-TestUri $server) -SourceCredential (New-TestCredential $server.AdminUser $wrong) `
                -Verbose -Debug -ErrorVariable errors -ErrorAction SilentlyContinue 4>&1 5>&1
            $errors.Count | Should -Be 1
            $errors[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'AuthenticationFailed,*'
            $errors[0].ErrorDetails.RecommendedAction | Should -Match '-SourceCredential'
            @($output | Where-Object { $_ -is [Molt.ConnectionCheck] }).Count | Should -Be 0
            (($output | Out-String) + ($errors[0] | Format-List * -Force | Out-String)) | Should -Not -Match ([regex]::Escape($wrong))
        }
    }

    It 'never writes a password given in the URI to any stream or to the log' {
        $log = Join-Path ([IO.Path]::GetTempPath()) "molt-$([guid]::NewGuid().ToString('N')).jsonl"
        try {
            $errors = $null
            $streams = Test-MoltConnection -Source $pg.ConnectionUri() -Target $pg.ConnectionUri() -For Failback -Verbose -Debug -LogPath $log `
                -ErrorVariable errors 4>&1 5>&1 3>&1 6>&1
            $errors | Should -BeNullOrEmpty
            $verbose = @($streams | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
            $verbose.Count | Should -BeGreaterThan 0
            ($verbose.Message -join "`n") | Should -Match 'checks failed'
            @($streams | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }).Count | Should -BeGreaterThan 0
            $logText = Get-Content -Raw -LiteralPath $log
            $logText | Should -Match '"@m"'
            ($streams | Out-String) + ($streams | Format-List * -Force | Out-String) | Should -Not -Match ([regex]::Escape($pg.AdminPassword))
            $logText | Should -Not -Match ([regex]::Escape($pg.AdminPassword))
        } finally {
            Remove-Item -LiteralPath $log -ErrorAction Ignore
        }
    }

    It 'reports an unreachable server as a ConnectionError without a stack trace' {
        $record = $null
        try { Test-MoltConnection -Source "postgres://nobody:pw@127.0.0.1:$(Get-ClosedPort)/postgres?sslmode=disable" -ErrorAction Stop } catch { $record = $_ }
        $record.CategoryInfo.Category | Should -Be 'ConnectionError'
        $record.FullyQualifiedErrorId | Should -BeLike 'ConnectionFailed,*'
        "$record" | Should -Not -Match '   at '
    }

    It 'reports a missing database as ObjectNotFound' {
        foreach ($uri in $pg.ConnectionUri('no_such_db'), $maria.ConnectionUri('no_such_db')) {
            $record = $null
            try { Test-MoltConnection -Source $uri -ErrorAction Stop } catch { $record = $_ }
            $record.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            "$record" | Should -Match "'no_such_db' does not exist"
        }
    }
}
