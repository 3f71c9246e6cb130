# Ctrl+C and -ErrorAction Stop end a load the way a user ends it: the engine is cancelled and waited for, the run is
# recorded as interrupted (no shard falsely failed), the user is told how to resume, and nothing the load held (a
# connection, the exported snapshot, a COPY, the run's lock) outlives the cmdlet.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:credential = Get-TestAdminCredential $pg
    $script:rows = 1000000

    function New-LoadPair([string] $Name) {
        New-TestDatabase $pg "${Name}_src"
        New-TestDatabase $pg "${Name}_dst"
        Invoke-TestSql $pg "${Name}_src" "CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL); INSERT INTO big SELECT g, repeat('x', 60) || g FROM generate_series(1, $rows) g; ANALYZE big"
        [pscustomobject]@{ Source = Get-TestUri $pg "${Name}_src"; Target = Get-TestUri $pg "${Name}_dst"; TargetDatabase = "${Name}_dst" }
    }

    # Sessions Molt has open on the server, other than the harness's own (it does not name itself molt). A backend
    # leaves pg_stat_activity a moment after its client closed the connection; a leaked connection never does.
    function Assert-NothingLeftOnServer {
        Wait-Until { (Get-MoltSessions) -eq 0 -and (Get-AdvisoryLocks) -eq 0 } -Seconds 10
    }

    function Get-MoltSessions {
        Get-TestScalar $pg postgres "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'molt%' AND pid <> pg_backend_pid()"
    }

    function Get-AdvisoryLocks {
        Get-TestScalar $pg postgres "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
    }

    function Wait-Until([scriptblock] $Condition, [int] $Seconds = 60) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for: $Condition" }
            Start-Sleep -Milliseconds 50
        }
    }
}

AfterAll {
    if ($script:pg) { $pg.Dispose() }
}

Describe 'Stopping a load' {
    It 'Ctrl+C (a stopped pipeline) cancels the engine, waits for it, and leaves the run interrupted and resumable' {
        $pair = New-LoadPair 'stop'
        $shell = [powershell]::Create()
        [void] $shell.AddScript({
                param($manifest, $source, $target, $credential)
                Import-Module $manifest
                Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential `
                    -TableHandling DropAndRecreate -ShardsPerTable 2 -FetchId stopped-run -Confirm:$false
            }).AddArgument((Get-BuiltMoltManifest)).AddArgument($pair.Source).AddArgument($pair.Target).AddArgument($credential)
        $running = $shell.BeginInvoke()
        Wait-Until { $shell.Streams.Progress.Count -gt 0 -or $running.IsCompleted }
        $running.IsCompleted | Should -BeFalse -Because 'the load must still be copying when it is stopped'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $shell.Stop()
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 15

        # Stop() returns only once the cmdlet has ended: nothing of the load may be left on the server.
        Assert-NothingLeftOnServer
        ($shell.Streams.Warning.Message -join "`n") | Should -Match 'stopped-run.*-Resume'
        ($shell.Streams.Warning.Message -join "`n") | Should -Match ([regex]::Escape("-Source '$($pair.Source)' -Target '$($pair.Target)' -FetchId 'stopped-run' -Resume"))
        $shell.Dispose()

        $status = Get-MoltFetchStatus -Target $pair.Target -TargetCredential $credential -FetchId stopped-run
        $status.Status | Should -Be 'interrupted'
        Get-TestScalar $pg $pair.TargetDatabase "SELECT count(*) FROM _molt.fetch_shards WHERE status = 'failed'" | Should -Be 0
        Get-TestScalar $pg $pair.TargetDatabase "SELECT count(*) FROM _molt.fetch_exceptions" | Should -Be 0

        $resumed = Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $credential -TargetCredential $credential `
            -TableHandling DropAndRecreate -FetchId stopped-run -Resume -Confirm:$false
        ($resumed | Where-Object FetchId -EQ stopped-run | Select-Object -Last 1).Status | Should -Be 'succeeded'
        Get-TestScalar $pg $pair.TargetDatabase 'SELECT count(*) FROM big' | Should -Be $rows
        Get-TestScalar $pg $pair.TargetDatabase 'SELECT count(DISTINCT id) FROM big' | Should -Be $rows
    }

    It '-ErrorAction Stop on a failed table cancels the other tables and waits for them' {
        $pair = New-LoadPair 'eastop'
        # The small table fails (its target refuses a row) while the big one is still copying.
        Invoke-TestSql $pg 'eastop_src' 'CREATE TABLE small (id int PRIMARY KEY, n int NOT NULL); INSERT INTO small VALUES (1, 1), (2, -1)'
        Invoke-TestSql $pg 'eastop_dst' 'CREATE TABLE small (id int PRIMARY KEY, n int NOT NULL CHECK (n > 0)); CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL)'
        $caught = $null
        try {
            Start-MoltBulkLoad $pair.Source $pair.Target -SourceCredential $credential -TargetCredential $credential `
                -FetchId stop-on-error -ErrorAction Stop | Out-Null
        } catch {
            $caught = $_
        }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'TableLoadFailed*'
        Assert-NothingLeftOnServer
        (Get-MoltFetchStatus -Target $pair.Target -TargetCredential $credential -FetchId stop-on-error).Status | Should -Be 'interrupted'
        Get-TestScalar $pg 'eastop_dst' "SELECT count(*) FROM _molt.fetch_shards WHERE source_table = 'public.big' AND status = 'failed'" | Should -Be 0
    }

    It 'Ctrl+C in a pwsh process ends it with a warning naming the FetchId and the resume command' {
        $pair = New-LoadPair 'sigint'
        $script = @'
$credential = [pscredential]::new($args[2], (ConvertTo-SecureString $args[3] -AsPlainText -Force))
Start-MoltBulkLoad $args[0] $args[1] -SourceCredential $credential -TargetCredential $credential -TableHandling DropAndRecreate `
    -ShardsPerTable 1 -FetchId sigint-run -Confirm:$false -Verbose 4>&1 3>&1 | ForEach-Object { "$_" }
'@
        $child = Invoke-MoltChild -Script $script -ArgumentList $pair.Source, $pair.Target, $pg.AdminUser, $pg.AdminPassword `
            -InterruptWhen 'Loading "?public\.big'
        $child.Interrupted | Should -BeTrue
        $child.TimedOut | Should -BeFalse
        $child.ExitCode | Should -Not -Be 0
        ($child.StdOut + $child.StdErr) | Should -Match 'sigint-run.*-Resume'
        ($child.StdOut + $child.StdErr) | Should -Not -Match ([regex]::Escape($pg.AdminPassword))
        (Get-MoltFetchStatus -Target $pair.Target -TargetCredential $credential -FetchId sigint-run).Status | Should -Be 'interrupted'
    }
}
