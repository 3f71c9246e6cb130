# Secrets (issue 16): every flow run with a password holding '@', ':' and '%', given in a PSCredential and again
# percent-encoded in the URI, and the password searched for, raw and URL-encoded, wherever Molt could leave it: every
# output object's text, every stream of the runspace (error records in full, warning, verbose, debug, information,
# progress), the log file, every row of every `_molt` table on both sides, and the command line of every process on the
# machine while the flows run (Molt starts none of its own; a child would show there too).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:maria = Start-TestMariaDb
    $script:password = 'p@ss:w%rd/S3cr3t'
    $script:encoded = [uri]::EscapeDataString($password)
    $script:manifest = Get-BuiltMoltManifest
    Wait-Task ($pg.CreateRoleAsync('sec_user', $password, $true, $true, [System.Threading.CancellationToken]::None))
    Wait-Task ($maria.CreateUserAsync('sec_user', $password, [string[]] @('ALL PRIVILEGES ON *.*')))

    function New-SecretSource([string] $Name) {
        New-TestDatabase $pg $Name
        Invoke-TestSql $pg $Name @'
CREATE TABLE orders (id bigint PRIMARY KEY, note text);
INSERT INTO orders SELECT g, 'o' || g FROM generate_series(1, 200) g;
'@
    }

    # The URI of a database as the given form names it: without the password, or with it percent-encoded.
    function Get-SecretUri($Server, [string] $Database, [bool] $InUri) {
        $uri = Get-TestUri $Server $Database -User sec_user
        if ($InUri) { $uri = $uri -replace '://sec_user@', "://sec_user:$encoded@" }
        $uri
    }

    <#
    Runs a script in a runspace of its own with the module imported, $ErrorActionPreference 'Stop' and every stream on,
    the given variables set; returns the text of everything it wrote: each output object in full, each error record
    in full (exception chain included), each warning, verbose, debug, information and progress record.
    #>
    function Invoke-Captured([string] $Script, [hashtable] $Variables) {
        $ps = [powershell]::Create()
        try {
            foreach ($key in $Variables.Keys) { $ps.Runspace.SessionStateProxy.SetVariable($key, $Variables[$key]) }
            $prologue = "Import-Module '$($manifest -replace "'", "''")' -ErrorAction Stop`n" +
                "`$ErrorActionPreference = 'Stop'; `$VerbosePreference = 'Continue'; `$DebugPreference = 'Continue'; `$InformationPreference = 'Continue'`n"
            $null = $ps.AddScript($prologue + $Script)
            $text = [System.Text.StringBuilder]::new()
            $terminating = $null
            try {
                foreach ($item in $ps.Invoke()) { [void] $text.AppendLine(($item | Format-List * -Force | Out-String -Width 400)) }
            } catch {
                $terminating = $_
                [void] $text.AppendLine(($_ | Format-List * -Force | Out-String -Width 400)).AppendLine($_.Exception.ToString())
            }
            foreach ($record in $ps.Streams.Error) {
                [void] $text.AppendLine(($record | Format-List * -Force | Out-String -Width 400)).AppendLine($record.Exception.ToString())
                [void] $text.AppendLine("$($record.ErrorDetails.Message) $($record.ErrorDetails.RecommendedAction) $($record.TargetObject)")
            }
            foreach ($stream in 'Warning', 'Verbose', 'Debug') {
                foreach ($record in $ps.Streams.$stream) { [void] $text.AppendLine("${stream}: $($record.Message)") }
            }
            foreach ($record in $ps.Streams.Information) { [void] $text.AppendLine("Information: $($record.MessageData) $($record.Tags -join ',')") }
            foreach ($record in $ps.Streams.Progress) {
                [void] $text.AppendLine("Progress: $($record.Activity) | $($record.StatusDescription) | $($record.CurrentOperation)")
            }
            [pscustomobject]@{
                Text        = $text.ToString()
                Terminating = $terminating
                Errors      = @($ps.Streams.Error)
                Verbose     = $ps.Streams.Verbose.Count
                Progress    = $ps.Streams.Progress.Count
            }
        } finally {
            $ps.Dispose()
        }
    }

    # Every row of every table in a `_molt` schema of these PostgreSQL databases, as text.
    function Get-PgStateRows([string[]] $Databases) {
        $rows = [System.Collections.Generic.List[string]]::new()
        foreach ($database in $Databases) {
            $tables = Get-TestScalar $pg $database "SELECT coalesce(string_agg(format('%I.%I', schemaname, tablename), ','), '') FROM pg_tables WHERE schemaname LIKE '\_molt%'"
            foreach ($table in ($tables -split ',' | Where-Object { $_ })) {
                $rows.Add("$database $table`n" + (Get-TestScalar $pg $database "SELECT coalesce(string_agg(t::text, E'\n'), '') FROM $table t"))
            }
        }
        $rows
    }

    # Every row of every table of MariaDB schemas whose name holds 'molt' (failback state; none is expected here).
    function Get-MariaStateRows {
        $tables = Get-TestScalar $maria '' "SELECT coalesce(group_concat(concat(table_schema, '.', table_name)), '') FROM information_schema.tables WHERE table_schema LIKE '%molt%'"
        foreach ($table in ($tables -split ',' | Where-Object { $_ })) {
            $schema, $name = $table -split '\.', 2
            $columns = Get-TestScalar $maria '' "SELECT group_concat(concat('``', column_name, '``')) FROM information_schema.columns WHERE table_schema = '$schema' AND table_name = '$name'"
            "$table`n" + (Get-TestScalar $maria '' "SELECT coalesce(group_concat(concat_ws('|', $columns) SEPARATOR '\n'), '') FROM ``$schema``.``$name``")
        }
    }

    # Samples the command line of every process every 100 ms until stopped; returns how many it saw and those holding the password.
    function Start-CommandLineWatch {
        $state = [hashtable]::Synchronized(@{ Run = $true; Seen = 0; Found = [System.Collections.Generic.List[string]]::new() })
        $job = Start-ThreadJob -ArgumentList $state, $password, $encoded -ScriptBlock {
            param($state, $password, $encoded)
            while ($state.Run) {
                foreach ($folder in [IO.Directory]::GetDirectories('/proc')) {
                    if ([IO.Path]::GetFileName($folder) -notmatch '^\d+$') { continue }
                    try { $line = [IO.File]::ReadAllText("$folder/cmdline").Replace([char]0, ' ') } catch { continue }
                    $state.Seen++
                    if ($line.Contains($password) -or $line.Contains($encoded)) { $state.Found.Add($line) }
                }
                Start-Sleep -Milliseconds 100
            }
        }
        [pscustomobject]@{ State = $state; Job = $job }
    }

    function Stop-CommandLineWatch($Watch) {
        $Watch.State.Run = $false
        $Watch.Job | Wait-Job | Remove-Job
        $Watch.State
    }

    function Assert-NoSecret([string] $Text, [string] $Where) {
        $Text.Contains($password) | Should -BeFalse -Because "the password must not appear in $Where"
        $Text.Contains($encoded) | Should -BeFalse -Because "the URL-encoded password must not appear in $Where"
    }

    # Replication from PostgreSQL: a bulk load and its status, compare, a start and a resume, a stream as a job stopped at
    # cutover, failback from the cutover, the status, the removal, and a refused resume for an error record.
    $script:pgFlows = @'
$c = if ($Cred) { @{ SourceCredential = $Cred; TargetCredential = $Cred } } else { @{} }
$t = if ($Cred) { @{ TargetCredential = $Cred } } else { @{} }
Test-MoltConnection -Source $Src -Target $Dst @c -For Replication -LogPath $Log
Start-MoltBulkLoad $Src $Load @c -FetchId sec_load -TableHandling DropAndRecreate -Force -Confirm:$false -LogPath $Log
Get-MoltFetchStatus -Target $Load @t -FetchId sec_load -LogPath $Log
Compare-MoltData $Src $Load @c -LogPath $Log
Start-MoltReplication $Src $Load @c -FetchId sec_once -TableHandling DropAndRecreate -StopWhenCaughtUp -Force -Confirm:$false -LogPath $Log
Resume-MoltReplication $Src $Load @c -FetchId sec_once -StopWhenCaughtUp -LogPath $Log
Remove-MoltReplication $Src $Load @c -FetchId sec_once -Confirm:$false -LogPath $Log
$job = Start-MoltReplication $Src $Dst @c -FetchId sec -TableHandling DropAndRecreate -StatusInterval '00:00:01' -AsJob -Force -Confirm:$false -LogPath $Log
$deadline = [DateTime]::UtcNow.AddSeconds(90)
while ((Get-MoltReplicationStatus -Target $Dst @t -FetchId sec -ErrorAction SilentlyContinue).State -notin 'Streaming', 'CaughtUp') {
    if ([DateTime]::UtcNow -gt $deadline) { throw 'the stream did not start' }
    Start-Sleep -Milliseconds 200
}
Stop-MoltReplication -Target $Dst @t -FetchId sec -LogPath $Log
$job | Wait-Job -Timeout 60 | Receive-Job
$job | Remove-Job
Invoke-MoltFailback -Source $Src -Target $Dst @c -FetchId sec -StopWhenCaughtUp -Confirm:$false -LogPath $Log
Get-MoltReplicationStatus -Target $Dst @t -LogPath $Log
Compare-MoltData $Src $Dst @c -LogPath $Log
Remove-MoltReplication $Src $Dst @c -FetchId sec -Confirm:$false -LogPath $Log
# A refusal, for an error record to search: written to the error stream, the flows done.
try { Resume-MoltReplication $Src $Dst @c -FetchId sec_no_such -LogPath $Log } catch { Write-Error -ErrorRecord $_ -ErrorAction Continue }
'DONE'
'@

    # Replication from MariaDB: the checks, a bulk load, compare, a start and a resume, the status, the removal, a refusal.
    $script:mariaFlows = @'
$c = if ($Cred) { @{ SourceCredential = $Cred; TargetCredential = $Cred } } else { @{} }
$t = if ($Cred) { @{ TargetCredential = $Cred } } else { @{} }
Test-MoltConnection -Source $Src -Target $Dst @c -For Replication -LogPath $Log
Start-MoltBulkLoad $Src $Load @c -FetchId sec_mload -TableHandling DropAndRecreate -Force -Confirm:$false -LogPath $Log
Compare-MoltData $Src $Load @c -LogPath $Log
Start-MoltReplication $Src $Dst @c -FetchId sec_m -TableHandling DropAndRecreate -StopWhenCaughtUp -Force -Confirm:$false -LogPath $Log
Resume-MoltReplication $Src $Dst @c -FetchId sec_m -StopWhenCaughtUp -LogPath $Log
Get-MoltReplicationStatus -Target $Dst @t -FetchId sec_m -LogPath $Log
Stop-MoltReplication -Target $Dst @t -FetchId sec_m -LogPath $Log -ErrorAction Continue
Remove-MoltReplication $Src $Dst @c -FetchId sec_m -Confirm:$false -LogPath $Log
# A refusal, for an error record to search: written to the error stream, the flows done.
try { Resume-MoltReplication $Src $Dst @c -FetchId sec_no_such -LogPath $Log } catch { Write-Error -ErrorRecord $_ -ErrorAction Continue }
'DONE'
'@
}

AfterAll {
    if ($script:pg) { $pg.Dispose() }
    if ($script:maria) { $maria.Dispose() }
}

Describe 'A password holding @ : and %' {
    It 'never shows in any stream, the log, a _molt row or a command line, from PostgreSQL, given <Form>' -ForEach @(
        @{ Form = 'as a PSCredential'; InUri = $false; Prefix = 'sec_cred' }
        @{ Form = 'percent-encoded in the URI'; InUri = $true; Prefix = 'sec_uri' }
    ) {
        foreach ($suffix in 'src', 'load', 'dst') { if ($suffix -eq 'src') { New-SecretSource "${Prefix}_src" } else { New-TestDatabase $pg "${Prefix}_$suffix" } }
        $log = Join-Path ([IO.Path]::GetTempPath()) "molt-$Prefix-$PID.log"
        $cred = if ($InUri) { $null } else { New-TestCredential sec_user $password }
        $watch = Start-CommandLineWatch
        try {
            $run = Invoke-Captured $pgFlows @{
                Src = Get-SecretUri $pg "${Prefix}_src" $InUri; Load = Get-SecretUri $pg "${Prefix}_load" $InUri; Dst = Get-SecretUri $pg "${Prefix}_dst" $InUri
                Cred = $cred; Log = $log
            }
        } finally {
            $seen = Stop-CommandLineWatch $watch
        }
        $run.Terminating | Should -BeNullOrEmpty -Because "every flow must run: $($run.Terminating)"
        $run.Text | Should -Match 'DONE'
        # Each stream searched held something: the search would otherwise pass whatever Molt did.
        @($run.Errors).Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'ReplicationNotFound*'
        $run.Verbose | Should -BeGreaterThan 0
        $run.Progress | Should -BeGreaterThan 0
        $run.Text | Should -Match 'sec_user@'
        Assert-NoSecret $run.Text 'the streams'
        $logText = Get-Content -Raw -LiteralPath $log
        $logText.Length | Should -BeGreaterThan 0
        Assert-NoSecret $logText 'the log file'
        $state = (Get-PgStateRows "${Prefix}_src", "${Prefix}_load", "${Prefix}_dst") -join "`n"
        $state | Should -Match 'sec_load'
        Assert-NoSecret $state 'the _molt tables'
        $seen.Seen | Should -BeGreaterThan 0
        $seen.Found | Should -BeNullOrEmpty -Because 'no process may carry the password on its command line'
        Remove-Item -LiteralPath $log
    }

    It 'never shows in any stream, the log, a _molt row or a command line, from MariaDB, given <Form>' -ForEach @(
        @{ Form = 'as a PSCredential'; InUri = $false; Prefix = 'sec_mcred' }
        @{ Form = 'percent-encoded in the URI'; InUri = $true; Prefix = 'sec_muri' }
    ) {
        Invoke-TestSql $maria '' "CREATE DATABASE ${Prefix}_src; CREATE TABLE ${Prefix}_src.orders (id bigint PRIMARY KEY, note varchar(20)); INSERT INTO ${Prefix}_src.orders VALUES (1, 'a'), (2, 'b')"
        New-TestDatabase $pg "${Prefix}_load"
        New-TestDatabase $pg "${Prefix}_dst"
        $log = Join-Path ([IO.Path]::GetTempPath()) "molt-$Prefix-$PID.log"
        $cred = if ($InUri) { $null } else { New-TestCredential sec_user $password }
        $watch = Start-CommandLineWatch
        try {
            $run = Invoke-Captured $mariaFlows @{
                Src = Get-SecretUri $maria "${Prefix}_src" $InUri; Load = Get-SecretUri $pg "${Prefix}_load" $InUri; Dst = Get-SecretUri $pg "${Prefix}_dst" $InUri
                Cred = $cred; Log = $log
            }
        } finally {
            $seen = Stop-CommandLineWatch $watch
        }
        $run.Terminating | Should -BeNullOrEmpty -Because "every flow must run: $($run.Terminating)"
        $run.Text | Should -Match 'DONE'
        @($run.Errors).Count | Should -BeGreaterThan 0
        $run.Errors[-1].FullyQualifiedErrorId | Should -BeLike 'ReplicationNotFound*'
        $run.Verbose | Should -BeGreaterThan 0
        $run.Progress | Should -BeGreaterThan 0
        Assert-NoSecret $run.Text 'the streams'
        $logText = Get-Content -Raw -LiteralPath $log
        $logText.Length | Should -BeGreaterThan 0
        Assert-NoSecret $logText 'the log file'
        $state = ((Get-PgStateRows "${Prefix}_load", "${Prefix}_dst") + @(Get-MariaStateRows)) -join "`n"
        $state | Should -Match 'sec_mload'
        Assert-NoSecret $state 'the _molt tables'
        $seen.Seen | Should -BeGreaterThan 0
        $seen.Found | Should -BeNullOrEmpty -Because 'no process may carry the password on its command line'
        Remove-Item -LiteralPath $log
    }
}
