# Compare-MoltData as a user drives it: bound from a load's pipeline (the loaded tables, once each, under the load's
# -Where), its own -Where, and the -LogPath and -Debug every Molt cmdlet shares.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:credential = Get-TestAdminCredential $pg

    # A source with three tables; a load of two of them, items filtered to its first half.
    function New-LoadedPair([string] $Name) {
        New-TestDatabase $pg "${Name}_src"
        New-TestDatabase $pg "${Name}_dst"
        Invoke-TestSql $pg "${Name}_src" @'
CREATE TABLE items (id bigint PRIMARY KEY, name text);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 1000) g;
CREATE TABLE tags (tag text PRIMARY KEY);
INSERT INTO tags VALUES ('a'), ('b'), ('c');
CREATE TABLE other (id int PRIMARY KEY);
INSERT INTO other VALUES (1), (2);
'@
        [pscustomobject]@{ Source = Get-TestUri $pg "${Name}_src"; Target = Get-TestUri $pg "${Name}_dst" }
    }

    function Start-HalfLoad($Pair, [string[]] $Table = @('items', 'tags')) {
        $where = if ($Table -contains 'items') { @{ 'public.items' = 'id <= 500' } } else { @{} }
        Start-MoltBulkLoad $Pair.Source $Pair.Target -SourceCredential $credential -TargetCredential $credential -Table $Table `
            -Where $where -TableHandling DropAndRecreate -Confirm:$false
    }

    function Get-ClosedPortUri {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $port = $listener.LocalEndpoint.Port
        $listener.Stop()
        "postgres://nobody@127.0.0.1:$port/postgres?sslmode=disable"
    }
}

AfterAll {
    if ($script:pg) { $pg.Dispose() }
}

Describe 'Compare-MoltData bound from a load' {
    It 'compares exactly the loaded tables, once each, under the load''s -Where, when the load pipes into it' {
        $pair = New-LoadedPair 'piped'
        $compared = @(Start-HalfLoad $pair | Compare-MoltData -SourceCredential $credential -TargetCredential $credential -ErrorVariable failures)

        $failures | Should -BeNullOrEmpty
        $compared | ForEach-Object { $_.PSObject.TypeNames[0] | Should -Be 'Molt.TableComparison' }
        ($compared.Table | Sort-Object) | Should -Be @('public.items', 'public.tags')
        $items = $compared | Where-Object Table -EQ 'public.items'
        $items.Status | Should -Be 'Equal'
        $items.SourceRows | Should -Be 500
        $items.Note | Should -Match 'id <= 500'
    }

    It 'takes the same from saved results: the table results carry their -Where and the summary adds nothing' {
        $pair = New-LoadedPair 'saved'
        $results = @(Start-HalfLoad $pair)
        ($results | Where-Object Table -EQ 'public.items').Where | Should -Be 'id <= 500'
        ($results | Where-Object Table -EQ 'public.tags').Where | Should -BeNullOrEmpty

        $compared = @($results | Compare-MoltData -SourceCredential $credential -TargetCredential $credential -ErrorVariable failures)
        $failures | Should -BeNullOrEmpty
        ($compared.Table | Sort-Object) | Should -Be @('public.items', 'public.tags')
        ($compared | Where-Object Status -NE 'Equal') | Should -BeNullOrEmpty
    }

    It 'compares nothing for a load summary alone, and says how to name the tables' {
        $pair = New-LoadedPair 'summary'
        $summary = Start-HalfLoad $pair | Select-Object -Last 1
        $summary.PSObject.TypeNames[0] | Should -Be 'Molt.BulkLoadSummary'

        $compared = @($summary | Compare-MoltData -SourceCredential $credential -TargetCredential $credential -ErrorVariable failures -ErrorAction SilentlyContinue)
        $compared | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'PipedInputNamesNoTable,*'
        $failures[0].ErrorDetails.RecommendedAction | Should -Match '-Table'
    }

    It 'compares each source and target pair''s own tables when results of several loads are piped' {
        $first = New-LoadedPair 'pair_one'
        $second = New-LoadedPair 'pair_two'
        $results = @(Start-HalfLoad $first -Table items) + @(Start-HalfLoad $second -Table tags)

        $compared = @($results | Compare-MoltData -SourceCredential $credential -TargetCredential $credential -ErrorVariable failures)
        $failures | Should -BeNullOrEmpty
        $compared.Count | Should -Be 2
        ($compared | Where-Object Table -EQ 'public.items').Target | Should -Be $first.Target
        ($compared | Where-Object Table -EQ 'public.tags').Target | Should -Be $second.Target
        ($compared | Where-Object Status -NE 'Equal') | Should -BeNullOrEmpty
    }
}

Describe 'Compare-MoltData -Where' {
    It 'compares the rows the predicate selects, and refuses a key that names no compared table' {
        $pair = New-LoadedPair 'where'
        $null = Start-HalfLoad $pair

        $items = Compare-MoltData $pair.Source $pair.Target -SourceCredential $credential -TargetCredential $credential -Table items `
            -Where @{ items = 'id <= 500' }
        $items.Status | Should -Be 'Equal'
        $items.SourceRows | Should -Be 500

        $compared = @(Compare-MoltData $pair.Source $pair.Target -SourceCredential $credential -TargetCredential $credential -Table items `
                -Where @{ itemz = 'id <= 500' } -ErrorVariable failures -ErrorAction SilentlyContinue)
        $compared | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RowFilterMatchesNoTable,*'
        "$($failures[0])" | Should -Match "'itemz'"
    }
}

Describe '-LogPath' {
    It 'refuses a folder, or a file in a missing folder, before connecting to anything' {
        $unreachable = Get-ClosedPortUri
        foreach ($path in @($TestDrive, (Join-Path $TestDrive 'missing' 'run.jsonl'))) {
            $null = Compare-MoltData $unreachable $unreachable -LogPath $path -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'LogPathNotWritable,*' -Because "-LogPath $path"

            $record = $null
            try { Start-MoltBulkLoad $unreachable $unreachable -LogPath $path -Confirm:$false -ErrorAction Stop } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -BeLike 'LogPathNotWritable,*' -Because "-LogPath $path"
        }
        Join-Path $TestDrive 'missing' | Should -Not -Exist
    }

    It 'reports a log that fails later (a full disk) as one warning and still finishes the work' {
        $pair = New-LoadedPair 'full_log'
        $null = Start-HalfLoad $pair
        $compared = @(Compare-MoltData $pair.Source $pair.Target -SourceCredential $credential -TargetCredential $credential -Table tags `
                -LogPath /dev/full -Verbose -WarningVariable warnings -WarningAction SilentlyContinue -ErrorVariable failures 4>$null)
        $failures | Should -BeNullOrEmpty
        $compared.Status | Should -Be 'Equal'
        $warnings.Count | Should -Be 1
        "$($warnings[0])" | Should -Match '/dev/full'
    }
}

Describe '-Debug' {
    It 'never prompts and never aborts a non-interactive run, for -Debug or $DebugPreference = ''Inquire''' {
        $pair = New-LoadedPair 'debug'
        $null = Start-HalfLoad $pair
        $child = Invoke-MoltChild -Script @'
$ErrorActionPreference = 'Stop'
$credential = [pscredential]::new($args[2], (ConvertTo-SecureString $args[3] -AsPlainText -Force))
Test-MoltConnection -Source $args[0] -SourceCredential $credential -Debug | Out-Null
Compare-MoltData $args[0] $args[1] -SourceCredential $credential -TargetCredential $credential -Table tags -Debug | Out-Null
'switch finished'
$DebugPreference = 'Inquire'
Compare-MoltData $args[0] $args[1] -SourceCredential $credential -TargetCredential $credential -Table tags | Out-Null
'preference finished'
'@ -ArgumentList $pair.Source, $pair.Target, $pg.AdminUser, $pg.AdminPassword

        $child.StdErr | Should -BeNullOrEmpty
        $child.ExitCode | Should -Be 0
        $child.StdOut | Should -Match 'DEBUG: .*check'
        $child.StdOut | Should -Match 'DEBUG: "public\.tags": comparing with "public\.tags", source rows all'
        $child.StdOut | Should -Match 'switch finished'
        $child.StdOut | Should -Match 'preference finished'
        $child.StdOut | Should -Not -Match ([regex]::Escape($pg.AdminPassword))
    }

    It 'is off with -Debug:$false, whatever $DebugPreference says' {
        $log = Join-Path $TestDrive 'nodebug.jsonl'
        $records = & {
            $DebugPreference = 'Continue'
            Test-MoltConnection -Source (Get-TestUri $pg) -SourceCredential $credential -Debug:$false -LogPath $log 5>&1
        }
        @($records | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }) | Should -BeNullOrEmpty
        Get-Content -LiteralPath $log -Raw | Should -Not -Match '"@l":"Debug"'
        Get-Content -LiteralPath $log -Raw | Should -Match '"@m"'
    }
}
