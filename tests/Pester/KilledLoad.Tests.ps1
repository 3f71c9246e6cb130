# A load whose pwsh is killed outright (SIGKILL: nothing runs after it, not even the Ctrl+C path that marks a run
# interrupted) resumes with -Resume and ends equal to the source, with no row twice and none missing.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:credential = Get-TestAdminCredential $pg
}

AfterAll { if ($script:pg) { $pg.Dispose() } }

Describe 'A killed load' {
    It 'leaves only whole shards, is reported abandoned, and -Resume finishes it' {
        New-TestDatabase $pg killed_src
        New-TestDatabase $pg killed_dst
        Invoke-TestSql $pg killed_src 'CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL); INSERT INTO events SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 600000) g; ANALYZE'
        $source = Get-TestUri $pg killed_src
        $target = Get-TestUri $pg killed_dst
        # The child prints each progress record as it happens, so the test can kill it once the load is well under way.
        $script = @'
$credential = [pscredential]::new($args[2], (ConvertTo-SecureString $args[3] -AsPlainText -Force))
$shell = [powershell]::Create()
[void] $shell.AddScript({
        param($manifest, $parameters)
        Import-Module $manifest
        Start-MoltBulkLoad @parameters
    }).AddArgument((Get-Module Molt).Path).AddArgument(@{
        Source = $args[0]; Target = $args[1]; SourceCredential = $credential; TargetCredential = $credential
        TableHandling = 'DropAndRecreate'; Force = $true; ShardsPerTable = 8; FetchId = 'killed' })
$running = $shell.BeginInvoke()
$seen = 0
while (-not $running.IsCompleted) {
    while ($seen -lt $shell.Streams.Progress.Count) {
        $record = $shell.Streams.Progress[$seen++]
        [Console]::Out.WriteLine("progress`t$($record.Activity)`t$($record.PercentComplete)")
    }
    Start-Sleep -Milliseconds 20
}
'@
        $child = Invoke-MoltChild -Timeout ([timespan]::FromMinutes(1)) -Script $script -ArgumentList $source, $target, $pg.AdminUser, $pg.AdminPassword `
            -KillWhen "^progress`tLoading public\.events`t(1[5-9]|[2-9][0-9])$"
        $child.Interrupted | Should -BeTrue -Because "the load must be killed mid-copy: $($child.StdErr)"
        $child.ExitCode | Should -Be 137

        # The dead process never marked its run. Its open COPY transactions end with its connections (the server
        # notices the closed sockets), so the table then holds exactly the rows of the shards marked done.
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Get-TestScalar $pg postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'killed_dst' AND application_name LIKE 'molt%'") -gt 0) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "the killed load's sessions are still open on the target" }
            Start-Sleep -Milliseconds 100
        }
        Get-TestScalar $pg killed_dst "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'killed'" | Should -Be 'running'
        $done = Get-TestScalar $pg killed_dst "SELECT count(*) FROM _molt.fetch_shards WHERE fetch_id = 'killed' AND status = 'done'"
        $done | Should -BeLessThan 8
        Get-TestScalar $pg killed_dst 'SELECT count(*) FROM events' |
            Should -Be (Get-TestScalar $pg killed_dst "SELECT coalesce(sum(rows_loaded), 0)::bigint FROM _molt.fetch_shards WHERE status = 'done'")

        (Get-MoltFetchStatus -Target $target -TargetCredential $credential -FetchId killed).Status | Should -Be ([Molt.LoadStatus]::Abandoned)
        $resumed = Start-MoltBulkLoad $source $target -SourceCredential $credential -TargetCredential $credential -FetchId killed -Resume -Force -ErrorAction Stop
        ($resumed | Where-Object { $_ -is [Molt.BulkLoadSummary] }).Status | Should -Be ([Molt.LoadStatus]::Succeeded)
        (Compare-MoltData $source $target -SourceCredential $credential -TargetCredential $credential -ErrorAction Stop).Status | Should -Be ([Molt.ComparisonStatus]::Equal)
        Get-TestScalar $pg killed_dst 'SELECT count(*) FROM events' | Should -Be 600000
    }
}
