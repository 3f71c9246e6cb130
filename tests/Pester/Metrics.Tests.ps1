# -MetricsListenAddress in real pwsh against a real PostgreSQL source and target: a stream run as a job is scraped while
# it applies the source's writes, and its port is closed once Stop-MoltReplication has stopped it; an address in use is
# refused before anything is loaded; the metrics library is loaded only by a run that asks for metrics.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:credential = Get-TestAdminCredential $pg
    $script:common = @{ SourceCredential = $credential; TargetCredential = $credential }

    function New-MetricsPair([string] $Name) {
        New-TestDatabase $pg "${Name}_src"
        New-TestDatabase $pg "${Name}_dst"
        Invoke-TestSql $pg "${Name}_src" 'CREATE TABLE orders (id bigint PRIMARY KEY, qty int NOT NULL); INSERT INTO orders SELECT g, g % 7 FROM generate_series(1, 500) g'
        [pscustomobject]@{ Source = Get-TestUri $pg "${Name}_src"; Target = Get-TestUri $pg "${Name}_dst"; SourceDatabase = "${Name}_src"; TargetDatabase = "${Name}_dst" }
    }

    function Get-FreePort {
        $probe = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0)
        $probe.Start()
        try { $probe.LocalEndpoint.Port } finally { $probe.Stop() }
    }

    # The value of the sample of metric $Name whose labels include every one of $Labels (in any order), or $null.
    function Get-Sample([string] $Page, [string] $Name, [hashtable] $Labels = @{}) {
        foreach ($line in $Page -split '\n') {
            if (-not ($line -match "^$Name(\{(?<labels>.*)\})? (?<value>\S+)$")) { continue }
            $found = $Matches
            $has = @($Labels.Keys | Where-Object { $found['labels'] -notmatch "(^|,)$_=`"$([regex]::Escape($Labels[$_]))`"" }).Count -eq 0
            if ($has) { return [double] $found['value'] }
        }
        $null
    }

    function Wait-Until([scriptblock] $Condition, [int] $Seconds = 60) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for: $Condition" }
            Start-Sleep -Milliseconds 200
        }
    }
}

AfterAll { if ($script:pg) { $pg.Dispose() } }

Describe '-MetricsListenAddress' {
    It 'serves a replication job''s changes and lag while it streams, and closes its port when Stop-MoltReplication stops it' {
        $pair = New-MetricsPair 'mjob'
        $address = "127.0.0.1:$(Get-FreePort)"
        $url = "http://$address/metrics"
        $job = Start-MoltReplication $pair.Source $pair.Target @common -FetchId mjob -TableHandling DropAndRecreate -StatusInterval '00:00:00.500' `
            -MetricsListenAddress $address -AsJob -Confirm:$false
        try {
            Wait-Until { (Get-MoltReplicationStatus -Target $pair.Target -TargetCredential $credential -FetchId mjob -ErrorAction SilentlyContinue).State -in 'Streaming', 'CaughtUp' }
            $loaded = (Invoke-WebRequest -Uri $url -UseBasicParsing).Content
            Get-Sample $loaded 'molt_load_rows_total' @{ fetch_id = 'mjob'; table = 'public.orders' } | Should -Be 500

            Invoke-TestSql $pg $pair.SourceDatabase 'INSERT INTO orders SELECT g, 1 FROM generate_series(1001, 1025) g; UPDATE orders SET qty = 0 WHERE id <= 10; DELETE FROM orders WHERE id BETWEEN 20 AND 22'
            $script:page = $null
            Wait-Until {
                $script:page = (Invoke-WebRequest -Uri $url -UseBasicParsing).Content
                (Get-Sample $script:page 'molt_replication_changes_total' @{ fetch_id = 'mjob'; kind = 'delete' }) -eq 3
            }
            Get-Sample $page 'molt_replication_changes_total' @{ fetch_id = 'mjob'; kind = 'insert' } | Should -Be 25
            Get-Sample $page 'molt_replication_changes_total' @{ fetch_id = 'mjob'; kind = 'update' } | Should -Be 10
            Get-Sample $page 'molt_replication_transactions_total' @{ fetch_id = 'mjob' } | Should -BeGreaterThan 0
            Get-Sample $page 'molt_replication_lag_seconds' @{ fetch_id = 'mjob' } | Should -Not -BeNullOrEmpty
            Get-Sample $page 'molt_replication_lag_bytes' @{ fetch_id = 'mjob' } | Should -Not -BeNullOrEmpty
            $page | Should -Not -Match ([regex]::Escape($credential.GetNetworkCredential().Password))
            $page | Should -Not -Match ([regex]::Escape($credential.UserName))

            $final = Stop-MoltReplication -Target $pair.Target -TargetCredential $credential -FetchId mjob -WarningAction SilentlyContinue
            $final.State | Should -Be 'Stopped'
            $final.Changes | Should -Be 38
            $job | Wait-Job -Timeout 60 | Out-Null
            $job.State | Should -Be 'Completed'
            { Invoke-WebRequest -Uri $url -UseBasicParsing -TimeoutSec 5 } | Should -Throw
            $client = [System.Net.Sockets.TcpClient]::new()
            try { { $client.Connect([ipaddress]::Loopback, [int] $address.Split(':')[1]) } | Should -Throw } finally { $client.Dispose() }
        } finally {
            $job | Stop-Job -ErrorAction SilentlyContinue
            $job | Remove-Job -Force -ErrorAction SilentlyContinue
        }
    }

    It 'refuses an address in use with MetricsListenFailed before anything is loaded' {
        $pair = New-MetricsPair 'mbusy'
        $taken = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0)
        $taken.Start()
        try {
            $address = "127.0.0.1:$($taken.LocalEndpoint.Port)"
            $refused = $null
            try { Start-MoltBulkLoad $pair.Source $pair.Target @common -TableHandling DropAndRecreate -MetricsListenAddress $address -Confirm:$false -ErrorAction Stop }
            catch { $refused = $_ }
            $refused.FullyQualifiedErrorId | Should -Be 'MetricsListenFailed,Molt.PowerShell.Cmdlets.StartMoltBulkLoadCommand'
            $refused.Exception.Message | Should -Match ([regex]::Escape($address))
            Get-TestScalar $pg $pair.TargetDatabase "SELECT count(*) FROM pg_tables WHERE tablename = 'orders'" | Should -Be 0
        } finally {
            $taken.Stop()
        }
        { Start-MoltBulkLoad $pair.Source $pair.Target @common -MetricsListenAddress 'no-port' -ErrorAction Stop } |
            Should -Throw -ErrorId 'MetricsAddressInvalid,Molt.PowerShell.Cmdlets.StartMoltBulkLoadCommand'
    }

    It 'ships the metrics library in Dependencies and loads it only for a run that serves metrics' {
        $pair = New-MetricsPair 'mlazy'
        Join-Path (Split-Path (Get-BuiltMoltManifest)) 'Dependencies' 'Prometheus.NetStandard.dll' | Should -Exist
        $child = Invoke-MoltChild -ArgumentList $pair.Source, $pair.Target, $credential.UserName, $credential.GetNetworkCredential().Password, "127.0.0.1:$(Get-FreePort)" -Script @'
$credential = [pscredential]::new($args[2], (ConvertTo-SecureString $args[3] -AsPlainText -Force))
function Test-Loaded { [bool] ([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Prometheus.NetStandard' }) }
"imported=$(Test-Loaded)"
$null = Start-MoltBulkLoad $args[0] $args[1] -SourceCredential $credential -TargetCredential $credential -TableHandling DropAndRecreate -Confirm:$false
"loaded-without=$(Test-Loaded)"
$null = Start-MoltBulkLoad $args[0] $args[1] -SourceCredential $credential -TargetCredential $credential -TableHandling DropAndRecreate -Confirm:$false -MetricsListenAddress $args[4]
"loaded-with=$(Test-Loaded)"
'@
        $child.StdErr | Should -BeNullOrEmpty
        $child.ExitCode | Should -Be 0
        $child.StdOut | Should -Match 'imported=False'
        $child.StdOut | Should -Match 'loaded-without=False'
        $child.StdOut | Should -Match 'loaded-with=True'
    }
}
