# The fault suite's parts (issue 16): the servers behind TCP fault proxies, the writers, the Molt children, the faults
# and the checks. Invoke-MoltReliability.ps1 puts them together into flows; every random choice comes from the run's
# seeded [Random], so a seed replays the same faults at the same points (timing on a loaded machine aside).
Set-StrictMode -Version Latest

$script:Pgbench = '/usr/lib/postgresql/15/bin/pgbench'

# Every fault the suite injects. Network faults go through the proxy on one side: Source (Molt to the source) or
# Target (Molt to the target); the writers and the checks connect straight to the servers.
$script:FaultKinds = @(
    'SigKill', 'CtrlC',
    'SourceRestartFast', 'SourceRestartImmediate', 'TargetRestartFast', 'TargetRestartImmediate',
    'SourceCut', 'SourceReset', 'SourceStall', 'TargetCut', 'TargetReset', 'TargetStall'
)

function Get-FaultKinds { $script:FaultKinds }

# A scalar from a server straight (not through a proxy); $null while the server is down or restarting.
function Get-SafeScalar($Server, [string] $Database, [string] $Sql) {
    try { Get-TestScalar $Server $Database $Sql } catch { $null }
}

<#
The run's shared state: seed and random, run folder, the servers and their proxies, the credential the children use,
the fault log and the figures per flow.
#>
function New-ReliabilityRun {
    param([int] $Seed, [string] $Folder, [int] $SampleSeconds, [bool] $NeedMariaDb)
    $null = New-Item -ItemType Directory -Force -Path $Folder
    $run = [pscustomobject]@{
        Seed          = $Seed
        Random        = [Random]::new($Seed)
        Folder        = $Folder
        SampleSeconds = $SampleSeconds
        NextSample    = [DateTime]::UtcNow
        Password      = 'r3l:ia@bi/lity'
        User          = 'relia'
        Source        = $null
        Target        = $null
        Maria         = $null
        SourceProxy   = $null
        TargetProxy   = $null
        MariaProxy    = $null
        Credential    = $null
        Children      = [System.Collections.Generic.List[object]]::new()
        Outputs       = [System.Collections.Generic.List[string]]::new()
        Logs          = [System.Collections.Generic.List[string]]::new()
        Faults        = [System.Collections.Generic.List[object]]::new()
        Figures       = [ordered]@{}
        PeakRssKb     = 0L
        Writers       = [System.Collections.Generic.List[object]]::new()
        Flow          = ''
        SamplesPath   = Join-Path $Folder 'samples.csv'
        Sampler       = $null
    }
    Set-Content -LiteralPath $run.SamplesPath -Value 'utc,flow,molt_pid,molt_rss_kb,molt_peak_rss_kb,lag_bytes,lag_seconds,state,transactions'
    # Durable commits: a server crashed (immediate shutdown) must keep what it acknowledged, as a production one does.
    $run.Source = Start-TestPostgres -Settings @{ synchronous_commit = 'on' }
    $run.Target = Start-TestPostgres -Settings @{ synchronous_commit = 'on' }
    foreach ($server in $run.Source, $run.Target) {
        Invoke-TestSql $server postgres "CREATE ROLE $($run.User) LOGIN SUPERUSER PASSWORD '$($run.Password)'"
    }
    $run.SourceProxy = [Molt.Testing.TcpFaultProxy]::Start($run.Source.Host, $run.Source.Port)
    $run.TargetProxy = [Molt.Testing.TcpFaultProxy]::Start($run.Target.Host, $run.Target.Port)
    if ($NeedMariaDb) {
        $run.Maria = Start-TestMariaDb
        $null = Wait-Task ($run.Maria.CreateUserAsync($run.User, $run.Password, 'ALL PRIVILEGES ON *.*'))
        $run.MariaProxy = [Molt.Testing.TcpFaultProxy]::Start($run.Maria.Host, $run.Maria.Port)
    }
    $run.Credential = New-TestCredential $run.User $run.Password
    $run
}

function Stop-ReliabilityRun($Run) {
    foreach ($child in $Run.Children) { if (-not $child.Process.HasExited) { $child.Process.Kill($true); $child.Process.WaitForExit() } }
    foreach ($writer in $Run.Writers) { Stop-Writer $writer }
    foreach ($proxy in $Run.SourceProxy, $Run.TargetProxy, $Run.MariaProxy) { if ($proxy) { $proxy.Resume(); $null = Wait-Task ($proxy.DisposeAsync().AsTask()) } }
    foreach ($server in $Run.Source, $Run.Target, $Run.Maria) { if ($server) { $server.Dispose() } }
}

# The address Molt is given: through the side's proxy, with the user but never the password. -Timeouts: command and
# connect timeouts short enough that a stall is noticed while it lasts (the README's 'stall longer than the timeouts').
function Get-ProxiedUri {
    param($Run, [ValidateSet('Source', 'Target', 'Maria')] [string] $Side, [string] $Database, [int] $Timeouts)
    $proxy = $Run."${Side}Proxy"
    $name = [uri]::EscapeDataString($Run.User)
    if ($Side -eq 'Maria') { return "mysql://$name@$($proxy.Host):$($proxy.Port)/$Database" }
    $uri = "postgres://$name@$($proxy.Host):$($proxy.Port)/${Database}?sslmode=disable"
    if ($Timeouts) { $uri += "&CommandTimeout=$Timeouts&Timeout=$Timeouts" }
    $uri
}

function Get-DirectUri($Run, $Server, [string] $Database) { Get-TestUri $Server $Database -User $Run.User }

# ---- writers ----------------------------------------------------------------------------------------------------

# pgbench with the password in its environment, never on its command line.
function Start-PgbenchProcess($Server, [string] $Database, [string[]] $Arguments) {
    $start = [System.Diagnostics.ProcessStartInfo]::new($script:Pgbench)
    foreach ($argument in @('-h', $Server.Host, '-p', $Server.Port, '-U', $Server.AdminUser) + $Arguments + $Database) { $start.ArgumentList.Add([string] $argument) }
    $start.Environment['PGPASSWORD'] = $Server.AdminPassword
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    [pscustomobject]@{ Process = $process; StdOut = $process.StandardOutput.ReadToEndAsync(); StdErr = $process.StandardError.ReadToEndAsync() }
}

function Invoke-PgbenchInit($Server, [string] $Database, [int] $Scale) {
    $init = Start-PgbenchProcess $Server $Database @('-i', '-s', $Scale, '-q')
    $init.Process.WaitForExit()
    if ($init.Process.ExitCode -ne 0) { throw "pgbench -i failed: $($init.StdErr.Result)" }
}

<#
The PostgreSQL write load: pgbench's tpcb-like transaction plus an insert, an update, a delete and a key change on
items, and each history row again in a keyless audit table (matched by value: a change applied twice is a row more).
Ids come from the database's rel_ids sequence, so the same script writes on the target after a cutover.
#>
function New-PgbenchScript($Run) {
    $path = Join-Path $Run.Folder 'pgbench-mixed.sql'
    Set-Content -LiteralPath $path -Value @'
\set aid random(1, 100000 * :scale)
\set tid random(1, 10 * :scale)
\set bid random(1, :scale)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (id, tid, bid, aid, delta, mtime) VALUES (nextval('rel_ids'), :tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
INSERT INTO pgbench_audit VALUES (:aid, :delta);
INSERT INTO items (id, grp, v) VALUES (nextval('rel_ids'), :aid % 100, :delta);
UPDATE items SET v = v + :delta WHERE id = (SELECT id FROM items WHERE id > 0 ORDER BY id DESC OFFSET 3 LIMIT 1);
DELETE FROM items WHERE id = (SELECT id FROM items WHERE id > 0 ORDER BY id DESC OFFSET 6 LIMIT 1);
UPDATE items SET id = -id WHERE id = (SELECT id FROM items WHERE id > 0 ORDER BY id DESC OFFSET 9 LIMIT 1);
END;
'@
    $path
}

# A writer that is started again when its server restart ended it: what it committed stands, its open transaction is
# rolled back by the server, so the checks still hold.
function Start-PgWriter($Run, $Server, [string] $Database, [string] $Script, [int] $Rate, [int] $Scale) {
    $writer = [pscustomobject]@{ Kind = 'pgbench'; Server = $Server; Database = $Database; Script = $Script; Rate = $Rate; Scale = $Scale; Bench = $null; Starts = 0; Stopped = $false; Shell = $null; Handle = $null; Stop = $null }
    Restart-PgWriter $writer
    $Run.Writers.Add($writer)
    $writer
}

function Restart-PgWriter($Writer) {
    # A custom script's :scale is 1 unless -s says otherwise.
    $scale = if ($Writer.Scale) { @('-s', $Writer.Scale) } else { @() }
    $Writer.Bench = Start-PgbenchProcess $Writer.Server $Writer.Database (@('-n', '-c', '2', '-j', '1', '-R', $Writer.Rate, '-T', '86400', '--max-tries', '5', '-f', $Writer.Script) + $scale)
    $Writer.Starts++
}

# Keeps every writer going; called from every wait.
function Assert-Writers($Run) {
    foreach ($writer in $Run.Writers) {
        if ($writer.Stopped) { continue }
        if ($writer.Kind -eq 'pgbench' -and $writer.Bench.Process.HasExited) { Restart-PgWriter $writer }
        if ($writer.Kind -eq 'maria' -and $writer.Handle.IsCompleted) { throw "The MariaDB writer ended: $($writer.Shell.Streams.Error)" }
    }
}

function Stop-Writer($Writer) {
    if ($Writer.Stopped) { return }
    $Writer.Stopped = $true
    if ($Writer.Kind -eq 'pgbench') {
        if (-not $Writer.Bench.Process.HasExited) { $Writer.Bench.Process.Kill() }
        $Writer.Bench.Process.WaitForExit()
    } else {
        $Writer.Stop.Cancel()
        $null = $Writer.Shell.EndInvoke($Writer.Handle)
        $Writer.Shell.Dispose()
    }
}

<#
The MariaDB write load, on a runspace of this process: each transaction inserts an account, moves a balance, writes
history and audit rows, and every 5th deletes an account, every 7th changes an account's key. A transaction that a
restart or cut ends is retried; one whose COMMIT may have landed is checked against its history row first.
#>
function Start-MariaWriter($Run, [string] $Database) {
    $stop = [Threading.CancellationTokenSource]::new()
    $shell = [powershell]::Create()
    $null = $shell.AddScript({
        param($server, $database, $token, $seed)
        $random = [Random]::new($seed)
        $n = 0
        while (-not $token.IsCancellationRequested) {
            $n++
            $id = 1000000 + $n
            $aid = $random.Next(1, 20001)
            $delta = $random.Next(-500, 500)
            $sql = "START TRANSACTION; INSERT INTO accounts VALUES ($id, $n, 'writer $n'); UPDATE accounts SET balance = balance + $delta WHERE id = $aid; " +
                "INSERT INTO history (id, aid, delta) VALUES ($n, $aid, $delta); INSERT INTO audit VALUES ($aid, $delta); "
            if ($n % 5 -eq 0) { $sql += "DELETE FROM accounts WHERE id = $($id - 3); " }
            if ($n % 7 -eq 0) { $sql += "UPDATE accounts SET id = id + 1000000 WHERE id = $($id - 1); " }
            $sql += 'COMMIT;'
            while (-not $token.IsCancellationRequested) {
                try {
                    $server.ExecuteAsync($database, $sql, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
                    break
                } catch {
                    Start-Sleep -Milliseconds 500
                    try {
                        if ($server.ScalarAsync[long]($database, "SELECT count(*) FROM history WHERE id = $n", [Threading.CancellationToken]::None).GetAwaiter().GetResult() -gt 0) { break }
                    } catch { Start-Sleep -Milliseconds 500 }
                }
            }
            Start-Sleep -Milliseconds 25
        }
        $n
    }).AddArgument($Run.Maria).AddArgument($Database).AddArgument($stop.Token).AddArgument($Run.Random.Next())
    $writer = [pscustomobject]@{ Kind = 'maria'; Shell = $shell; Stop = $stop; Handle = $shell.BeginInvoke(); Stopped = $false; Bench = $null; Starts = 1 }
    $Run.Writers.Add($writer)
    $writer
}

# ---- Molt children --------------------------------------------------------------------------------------------

# The user's command in a pwsh of its own, $ErrorActionPreference = 'Stop', the password in the environment only.
function Start-MoltRun {
    param($Run, [string] $Command, [string] $Source, [string] $Target)
    $log = Join-Path $Run.Folder "molt-$($Run.Logs.Count).log"
    $Run.Logs.Add($log)
    $prologue = @'
$ErrorActionPreference = 'Stop'
trap { [Console]::Error.WriteLine("MOLT-ERROR $($_.FullyQualifiedErrorId)`n$($_.Exception)"); break }
$credential = [pscredential]::new($env:RELIA_USER, (ConvertTo-SecureString $env:RELIA_SECRET -AsPlainText -Force))
$common = @{ SourceCredential = $credential; TargetCredential = $credential; LogPath = $args[2]; WarningAction = 'SilentlyContinue' }
'@
    $child = Start-MoltChild -Script ($prologue + "`n" + $Command) -ArgumentList $Source, $Target, $log -Environment @{ RELIA_USER = $Run.User; RELIA_SECRET = $Run.Password }
    $child | Add-Member -NotePropertyName Name -NotePropertyValue "molt-$($Run.Logs.Count - 1)"
    $Run.Children.Add($child)
    $child
}

function Complete-MoltRun($Run, $Child, [int] $Seconds = 120) {
    if (-not $Child.Process.WaitForExit($Seconds * 1000)) { $Child.Process.Kill($true); $Child.Process.WaitForExit() }
    $text = $Child.StdOut.Result + "`n" + $Child.StdErr.Result
    $Run.Outputs.Add($text)
    Set-Content -LiteralPath (Join-Path $Run.Folder "$($Child.Name).out") -Value "exit $($Child.Process.ExitCode)`n$text"
    $Child.Process.ExitCode
}

# The error id a Molt process ended with (its prologue's trap prints it), or '' if it ended without one.
function Get-MoltErrorId($Child) {
    if ($Child.StdErr.Result -match 'MOLT-ERROR ([^,\s]+)') { $Matches[1] } else { '' }
}

# Peak and current RSS of a Molt child (its pwsh), from /proc; 0 once it is gone.
function Get-ProcessMemory([int] $ProcessId) {
    try {
        $status = Get-Content -LiteralPath "/proc/$ProcessId/status" -ErrorAction Stop
        $rss = [long] (($status | Where-Object { $_ -like 'VmRSS:*' }) -replace '\D', '')
        $peak = [long] (($status | Where-Object { $_ -like 'VmHWM:*' }) -replace '\D', '')
        @($rss, $peak)
    } catch { @(0L, 0L) }
}

<#
Called from every wait: keeps the writers going, and every SampleSeconds appends the Molt child's memory and the
stream's lag (as Get-MoltReplicationStatus reads it from the target) to samples.csv.
#>
function Update-Run($Run) {
    Assert-Writers $Run
    foreach ($child in $Run.Children) {
        if (-not $child.Process.HasExited) {
            $memory = Get-ProcessMemory $child.Process.Id
            if ($memory[1] -gt $Run.PeakRssKb) { $Run.PeakRssKb = $memory[1] }
        }
    }
    if ([DateTime]::UtcNow -lt $Run.NextSample -or -not $Run.Sampler) { return }
    $Run.NextSample = [DateTime]::UtcNow.AddSeconds($Run.SampleSeconds)
    $live = $Run.Children | Where-Object { -not $_.Process.HasExited } | Select-Object -Last 1
    $memory = if ($live) { Get-ProcessMemory $live.Process.Id } else { @(0L, 0L) }
    $status = try { & $Run.Sampler } catch { $null }
    $line = @(
        [DateTime]::UtcNow.ToString('o'), $Run.Flow, $(if ($live) { $live.Process.Id } else { '' }), $memory[0], $memory[1],
        $(if ($status) { $status.LagBytes }), $(if ($status -and $null -ne $status.LagSeconds) { [Math]::Round($status.LagSeconds, 1) }),
        $(if ($status) { $status.State }), $(if ($status) { $status.Transactions })
    ) -join ','
    Add-Content -LiteralPath $Run.SamplesPath -Value $line
}

function Wait-For {
    param($Run, [scriptblock] $Condition, [int] $Seconds, $Child)
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        if (& $Condition) { return $true }
        if ($Child -and $Child.Process.HasExited) { return $false }
        Update-Run $Run
        Start-Sleep -Milliseconds 200
    }
    $false
}

function Wait-Seconds($Run, [double] $Seconds) {
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while ([DateTime]::UtcNow -lt $deadline) { Update-Run $Run; Start-Sleep -Milliseconds 100 }
}

# ---- faults ---------------------------------------------------------------------------------------------------

function Get-FaultServer($Run, [string] $Side, [string] $SourceKind) {
    if ($Side -eq 'Target') { return $Run.Target }
    if ($SourceKind -eq 'Maria') { return $Run.Maria } else { return $Run.Source }
}

function Get-FaultProxy($Run, [string] $Side, [string] $SourceKind) {
    if ($Side -eq 'Target') { return $Run.TargetProxy }
    if ($SourceKind -eq 'Maria') { return $Run.MariaProxy } else { return $Run.SourceProxy }
}

<#
Restarts a server: Fast is PostgreSQL's fast shutdown (SIGINT) or MariaDB's clean one (SIGTERM); Immediate is a crash
(PostgreSQL's immediate shutdown, SIGQUIT: no checkpoint, recovery at start; SIGKILL of mariadbd), then a start on
the same data directory, which RestartAsync does once the process is gone.
#>
function Restart-Server($Server, [bool] $Immediate) {
    if ($Immediate) {
        $signal = if ($Server -is [Molt.Testing.PostgresServer]) { 'QUIT' } else { 'KILL' }
        & kill "-$signal" $Server.ProcessId
    }
    $null = Wait-Task ($Server.RestartAsync([Threading.CancellationToken]::None))
}

<#
Injects one fault into a running child. Returns what the runner must do next: 'Resume' when the fault ended the
child (a kill or Ctrl+C), 'Wait' when Molt is expected to recover on its own.
#>
function Invoke-Fault {
    param($Run, [string] $Kind, $Child, [string] $SourceKind, [int] $StallSeconds)
    switch -Regex ($Kind) {
        '^SigKill$' {
            Send-Signal $Child.Process.Id KILL
            $Child.Process.WaitForExit()
            return 'Resume'
        }
        '^CtrlC$' {
            Send-Signal $Child.Process.Id INT
            if (-not $Child.Process.WaitForExit(90000)) { throw 'Ctrl+C did not end the Molt process within 90 s' }
            return 'Resume'
        }
        '^(Source|Target)Restart(Fast|Immediate)$' {
            Restart-Server (Get-FaultServer $Run $Matches[1] $SourceKind) ($Matches[2] -eq 'Immediate')
            return 'Wait'
        }
        '^(Source|Target)(Cut|Reset)$' {
            $proxy = Get-FaultProxy $Run $Matches[1] $SourceKind
            if ($Matches[2] -eq 'Cut') { $null = $proxy.Cut() } else { $null = $proxy.Reset() }
            return 'Wait'
        }
        '^(Source|Target)Stall$' {
            $proxy = Get-FaultProxy $Run $Matches[1] $SourceKind
            $proxy.Stall()
            try { Wait-Seconds $Run $StallSeconds } finally { $proxy.Resume() }
            return 'Wait'
        }
        default { throw "Unknown fault $Kind" }
    }
}

function Add-FaultRecord {
    param($Run, [string] $Flow, [string] $Fault, [string] $Point, [string] $Outcome, [bool] $Survived, [int] $Resumes, [double] $Seconds)
    $record = [pscustomobject]@{
        Utc = [DateTime]::UtcNow.ToString('o'); Flow = $Flow; Fault = $Fault; Point = $Point; Seed = $Run.Seed
        Outcome = $Outcome; Survived = $Survived; Resumes = $Resumes; RecoverySeconds = [Math]::Round($Seconds, 1)
    }
    $Run.Faults.Add($record)
    Write-Host ("fault flow={0} fault={1} point={2} seed={3} outcome={4} resumes={5} recovery={6}s" -f $Flow, $Fault, $Point, $Run.Seed, $Outcome, $Resumes, $record.RecoverySeconds)
    $record | Export-Csv -LiteralPath (Join-Path $Run.Folder 'faults.csv') -Append -NoTypeInformation
}

function Get-FlowFigures($Run, [string] $Flow) {
    if (-not $Run.Figures.Contains($Flow)) {
        $Run.Figures[$Flow] = [pscustomobject]@{
            Flow = $Flow; Faults = 0; Survived = 0; Resumes = 0; RowsChecked = 0L; ChangesChecked = 0L; Duplicates = 0L; Differences = 0L; Seconds = 0
        }
    }
    $Run.Figures[$Flow]
}

# ---- checks ---------------------------------------------------------------------------------------------------

<#
The checks of a pair of tables beyond Compare-MoltData: per table the row count, a sum and a digest of every row on
both sides; duplicates are rows the target has beyond the source's in a keyless table (a change applied twice) or
repeated ids. Returns Rows (target rows checked), Differences (checks not equal) and Duplicates.
#>
function Test-TableDigests {
    param($SourceServer, [string] $SourceDatabase, $TargetServer, [string] $TargetDatabase, [object[]] $Checks)
    $rows = 0L; $differences = 0L; $duplicates = 0L; $detail = [System.Collections.Generic.List[string]]::new()
    foreach ($check in $Checks) {
        $source = Get-Digest $SourceServer $SourceDatabase $check
        $target = Get-Digest $TargetServer $TargetDatabase $check
        $rows += [long] ($target -split ' ')[0]
        if ($source -ne $target) { $differences++; $detail.Add("$($check.Table): source $source, target $target") }
        $extra = [long] ($target -split ' ')[0] - [long] ($source -split ' ')[0]
        if ($check['Keyless'] -and $extra -gt 0) { $duplicates += $extra }
        if ($check['Id']) {
            $repeated = Get-TestScalar $TargetServer $TargetDatabase "SELECT count(*) - count(DISTINCT $($check['Id'])) FROM $($check.Table)"
            $duplicates += [long] $repeated
        }
    }
    [pscustomobject]@{ Rows = $rows; Differences = $differences; Duplicates = $duplicates; Detail = $detail -join '; ' }
}

# Count, an extra aggregate and the sum of each row's md5 (no whole-table text, which MariaDB's group_concat would cut).
function Get-Digest($Server, [string] $Database, $Check) {
    $hash = if ($Server -is [Molt.Testing.PostgresServer]) {
        "coalesce(sum(('x' || left(md5(concat_ws(',', $($Check.Columns))), 8))::bit(32)::bigint), 0)"
    } else {
        "coalesce(sum(CAST(conv(left(md5(concat_ws(',', $($Check.Columns))), 8), 16, 10) AS UNSIGNED)), 0)"
    }
    [string] (Get-TestScalar $Server $Database "SELECT concat_ws(' ', count(*), coalesce($($Check.Extra), 0), $hash) FROM $($Check.Table)")
}

# Compare-MoltData from this process (straight to the servers): the number of tables not Equal, and their names.
function Test-Compare {
    param($Run, [string] $Source, [string] $Target, [string[]] $ExcludeTable, [int] $Expected)
    $parameters = @{ SourceCredential = $Run.Credential; TargetCredential = $Run.Credential; WarningAction = 'SilentlyContinue'; ErrorAction = 'Stop' }
    if ($ExcludeTable) { $parameters.ExcludeTable = $ExcludeTable }
    $comparison = @(Compare-MoltData $Source $Target @parameters)
    $bad = @($comparison | Where-Object { "$($_.Status)" -ne 'Equal' })
    $missing = [Math]::Max(0, $Expected - $comparison.Count)
    [pscustomobject]@{ Differences = $bad.Count + $missing; Detail = (($bad | ForEach-Object { "$($_.Table) $($_.Status)" }) + $(if ($missing) { "$missing tables not compared" })) -join '; ' }
}

<#
Memory and lag over time from samples.csv, per flow: the Molt process's RSS in the first and the last fifth of the
flow's samples and at most, the lag's median and maximum, so flat or growing shows in one line.
#>
function Get-SampleSummary([string] $Path) {
    $samples = @(Import-Csv -LiteralPath $Path | Where-Object { $_.molt_rss_kb -and [long] $_.molt_rss_kb -gt 0 })
    foreach ($group in $samples | Group-Object flow) {
        $rows = @($group.Group)
        $fifth = [Math]::Max(1, [int] ($rows.Count / 5))
        $rss = { param($part) [Math]::Round((($part | ForEach-Object { [long] $_.molt_rss_kb }) | Measure-Object -Average).Average / 1024, 1) }
        $lags = @($rows | Where-Object { $_.lag_seconds } | ForEach-Object { [double] $_.lag_seconds } | Sort-Object)
        [pscustomobject]@{
            Flow          = $group.Name
            Samples       = $rows.Count
            RssFirstMb    = & $rss ($rows | Select-Object -First $fifth)
            RssLastMb     = & $rss ($rows | Select-Object -Last $fifth)
            RssMaxMb      = [Math]::Round((($rows | ForEach-Object { [long] $_.molt_rss_kb }) | Measure-Object -Maximum).Maximum / 1024, 1)
            LagMedianS    = if ($lags) { $lags[[int] ($lags.Count / 2)] } else { $null }
            LagMaxS       = if ($lags) { $lags[-1] } else { $null }
        }
    }
}

Export-ModuleMember -Function *
