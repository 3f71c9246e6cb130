# The bad-input catalogue (issue 16): every refusal the docs promise, run as a user runs it in pwsh with
# $ErrorActionPreference = 'Stop', for each flow it applies to. Each case asserts the error id and category, and that
# every database of the fixture - sources and targets, their tables, rows, schemas, slots and publications - is exactly
# as it was: a refused command writes nothing, no `_molt` state included, and loses nothing.
BeforeDiscovery {
    # One line a case: the flow (the cmdlet), the input, the error id and category it promises, and how to run it
    # given the fixture $f. Every command would write to the target if it got past its refusal (-Force, -Confirm:$false).
    $script:cases = @(
        # Bulk load.
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'a wrong source password'; ErrorId = 'AuthenticationFailed'; Category = 'AuthenticationError'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Dst -SourceCredential $f.WrongPg -TargetCredential $f.Pg -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'an unreachable target'; ErrorId = 'ConnectionFailed'; Category = 'ConnectionError'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Closed -SourceCredential $f.Pg -TargetCredential $f.Pg -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'an unknown scheme'; ErrorId = 'UnknownScheme'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltBulkLoad 'oracle://app@127.0.0.1/orcl' $f.Dst -TargetCredential $f.Pg -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'a URI with an unencoded @ in its password'; ErrorId = 'InvalidAddress'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltBulkLoad 'postgres://app:p@ss@127.0.0.1/bi_src' $f.Dst -TargetCredential $f.Pg -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'an unknown connection option'; ErrorId = 'InvalidConnectionOption'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltBulkLoad ($f.Src + '&no_such_option=1') $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'the same database as source and target'; ErrorId = 'SourceIsTarget'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltBulkLoad $f.Dst $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'a target database that does not exist'; ErrorId = 'DatabaseNotFound'; Category = 'ObjectNotFound'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Missing -SourceCredential $f.Pg -TargetCredential $f.Pg -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'a -Table filter that matches nothing'; ErrorId = 'NoTablesMatched'; Category = 'ObjectNotFound'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -Table 'no_such_*' -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'a -Where key naming no selected table'; ErrorId = 'RowFilterMatchesNoTable'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -Where @{ 'public.no_such' = 'id > 1' } -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'a -Where entry without a predicate'; ErrorId = 'InvalidRowFilter'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -Where @{ 'public.items' = ' ' } -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'a -TypeMapFile that does not exist'; ErrorId = 'TypeMapFileNotFound'; Category = 'ObjectNotFound'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -TypeMapFile ($f.TypeMapBad + '.missing') -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'a -TypeMapFile that is not a list'; ErrorId = 'InvalidTypeMapFile'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -TypeMapFile $f.TypeMapBad -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'columns of types with no mapping'; ErrorId = 'UnsupportedColumnTypes'; Category = 'InvalidType'; Run = { param($f) Start-MoltBulkLoad $f.Types $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = '-IdentifierCase for a PostgreSQL source'; ErrorId = 'IdentifierCaseNeedsMySqlSource'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -IdentifierCase Lower -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad -Resume'; Given = 'a FetchId the target never recorded'; ErrorId = 'FetchRunNotFound'; Category = 'ObjectNotFound'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -Resume -FetchId 'no_such_run' -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'the FetchId of a finished run, without -Resume'; ErrorId = 'FetchIdInUse'; Category = 'InvalidOperation'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Done -SourceCredential $f.Pg -TargetCredential $f.Pg -FetchId 'bi_done_run' -TableHandling DropAndRecreate -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad -Resume'; Given = 'a run that already succeeded'; ErrorId = 'FetchRunAlreadySucceeded'; Category = 'InvalidOperation'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Done -SourceCredential $f.Pg -TargetCredential $f.Pg -Resume -FetchId 'bi_done_run' -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad'; Given = 'a -LogPath in a missing folder'; ErrorId = 'LogPathNotWritable'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltBulkLoad $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -LogPath $f.NoFolder -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad from MariaDB'; Given = 'zero dates in a NOT NULL column'; ErrorId = 'ZeroDatesInNotNullColumns'; Category = 'MetadataError'; Run = { param($f) Start-MoltBulkLoad $f.MZero $f.Dst -SourceCredential $f.Maria -TargetCredential $f.Pg -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltBulkLoad from MariaDB'; Given = 'a wrong source password'; ErrorId = 'AuthenticationFailed'; Category = 'AuthenticationError'; Run = { param($f) Start-MoltBulkLoad $f.MSrc $f.Dst -SourceCredential $f.WrongMaria -TargetCredential $f.Pg -Force -Confirm:$false } }

        # Replication from PostgreSQL.
        @{ Flow = 'Start-MoltReplication'; Given = 'a table without a key or full replica identity'; ErrorId = 'NoReplicaIdentity'; Category = 'InvalidOperation'; Run = { param($f) Start-MoltReplication $f.Keyless $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -FetchId 'bi_keyless' -TableHandling DropAndRecreate -StopWhenCaughtUp -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltReplication'; Given = 'a slot name already taken'; ErrorId = 'ReplicationSlotExists'; Category = 'InvalidOperation'; Run = { param($f) Start-MoltReplication $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -FetchId 'bi_taken' -SlotName 'bi_taken' -TableHandling DropAndRecreate -StopWhenCaughtUp -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltReplication'; Given = 'a status interval of zero'; ErrorId = 'StatusIntervalNotPositive'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltReplication $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -FetchId 'bi_zero' -StatusInterval '00:00:00' -StopWhenCaughtUp -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltReplication'; Given = 'a wrong target password'; ErrorId = 'AuthenticationFailed'; Category = 'AuthenticationError'; Run = { param($f) Start-MoltReplication $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.WrongPg -FetchId 'bi_pw' -StopWhenCaughtUp -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltReplication'; Given = 'the same database as source and target'; ErrorId = 'SourceIsTarget'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltReplication $f.Src $f.Src -SourceCredential $f.Pg -TargetCredential $f.Pg -FetchId 'bi_same' -StopWhenCaughtUp -Force -Confirm:$false } }
        @{ Flow = 'Resume-MoltReplication'; Given = 'a FetchId the target never recorded'; ErrorId = 'ReplicationNotFound'; Category = 'ObjectNotFound'; Run = { param($f) Resume-MoltReplication $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -FetchId 'no_such_stream' -StopWhenCaughtUp } }

        # Replication from MariaDB.
        @{ Flow = 'Start-MoltReplication from MariaDB'; Given = 'a wrong source password'; ErrorId = 'AuthenticationFailed'; Category = 'AuthenticationError'; Run = { param($f) Start-MoltReplication $f.MSrc $f.Dst -SourceCredential $f.WrongMaria -TargetCredential $f.Pg -FetchId 'bi_mpw' -StopWhenCaughtUp -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltReplication from MariaDB'; Given = 'a -SlotName, which a binlog has not'; ErrorId = 'ReplicationSlotNotApplicable'; Category = 'InvalidArgument'; Run = { param($f) Start-MoltReplication $f.MSrc $f.Dst -SourceCredential $f.Maria -TargetCredential $f.Pg -FetchId 'bi_mslot' -SlotName 'molt_slot' -StopWhenCaughtUp -Force -Confirm:$false } }
        @{ Flow = 'Start-MoltReplication from MariaDB'; Given = 'zero dates in a NOT NULL column'; ErrorId = 'ZeroDatesInNotNullColumns'; Category = 'MetadataError'; Run = { param($f) Start-MoltReplication $f.MZero $f.Dst -SourceCredential $f.Maria -TargetCredential $f.Pg -FetchId 'bi_mzero' -StopWhenCaughtUp -Force -Confirm:$false } }
        @{ Flow = 'Resume-MoltReplication from MariaDB'; Given = 'a FetchId the target never recorded'; ErrorId = 'ReplicationNotFound'; Category = 'ObjectNotFound'; Run = { param($f) Resume-MoltReplication $f.MSrc $f.Dst -SourceCredential $f.Maria -TargetCredential $f.Pg -FetchId 'no_such_stream' -StopWhenCaughtUp } }

        # Status, stop, remove and failback of what does not exist.
        @{ Flow = 'Get-MoltFetchStatus'; Given = 'a FetchId the target never recorded'; ErrorId = 'FetchRunNotFound'; Category = 'ObjectNotFound'; Run = { param($f) Get-MoltFetchStatus -Target $f.Dst -TargetCredential $f.Pg -FetchId 'no_such_run' } }
        @{ Flow = 'Get-MoltReplicationStatus'; Given = 'a FetchId the target never recorded'; ErrorId = 'ReplicationNotFound'; Category = 'ObjectNotFound'; Run = { param($f) Get-MoltReplicationStatus -Target $f.Dst -TargetCredential $f.Pg -FetchId 'no_such_stream' } }
        @{ Flow = 'Stop-MoltReplication'; Given = 'a FetchId the target never recorded'; ErrorId = 'ReplicationNotFound'; Category = 'ObjectNotFound'; Run = { param($f) Stop-MoltReplication -Target $f.Dst -TargetCredential $f.Pg -FetchId 'no_such_stream' -Timeout '00:00:10' } }
        @{ Flow = 'Remove-MoltReplication'; Given = 'a FetchId the target never recorded'; ErrorId = 'ReplicationNotFound'; Category = 'ObjectNotFound'; Run = { param($f) Remove-MoltReplication $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -FetchId 'no_such_stream' -Confirm:$false } }
        @{ Flow = 'Remove-MoltReplication -WhatIf'; Given = 'a FetchId the target never recorded'; ErrorId = 'ReplicationNotFound'; Category = 'ObjectNotFound'; Run = { param($f) Remove-MoltReplication $f.Src $f.Repl -SourceCredential $f.Pg -TargetCredential $f.Pg -FetchId 'no_such_stream' -WhatIf } }
        @{ Flow = 'Invoke-MoltFailback'; Given = 'a FetchId the target never recorded'; ErrorId = 'FailbackNoStartPosition'; Category = 'ObjectNotFound'; Run = { param($f) Invoke-MoltFailback $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -FetchId 'no_such_stream' -StopWhenCaughtUp -Confirm:$false } }
        @{ Flow = 'Invoke-MoltFailback into MariaDB'; Given = 'a FetchId the target never recorded'; ErrorId = 'FailbackNoStartPosition'; Category = 'ObjectNotFound'; Run = { param($f) Invoke-MoltFailback $f.MSrc $f.Dst -SourceCredential $f.Maria -TargetCredential $f.Pg -FetchId 'no_such_stream' -StopWhenCaughtUp -Confirm:$false } }
        @{ Flow = 'Stop-MoltReplication'; Given = 'a stream that already stopped'; ErrorId = 'ReplicationNotRunning'; Category = 'InvalidOperation'; Run = { param($f) Stop-MoltReplication -Target $f.Repl -TargetCredential $f.Pg -FetchId 'bi_repl_run' -Timeout '00:00:10' } }
        @{ Flow = 'Start-MoltReplication'; Given = 'the FetchId of an existing stream'; ErrorId = 'FetchIdInUse'; Category = 'InvalidOperation'; Run = { param($f) Start-MoltReplication $f.Src $f.Repl -SourceCredential $f.Pg -TargetCredential $f.Pg -FetchId 'bi_repl_run' -TableHandling DropAndRecreate -StopWhenCaughtUp -Force -Confirm:$false } }
        @{ Flow = 'Stop-MoltReplication'; Given = 'a wrong target password'; ErrorId = 'AuthenticationFailed'; Category = 'AuthenticationError'; Run = { param($f) Stop-MoltReplication -Target $f.Dst -TargetCredential $f.WrongPg -FetchId 'no_such_stream' -Timeout '00:00:10' } }

        # Compare.
        @{ Flow = 'Compare-MoltData'; Given = 'a wrong target password'; ErrorId = 'AuthenticationFailed'; Category = 'AuthenticationError'; Run = { param($f) Compare-MoltData $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.WrongPg } }
        @{ Flow = 'Compare-MoltData'; Given = 'an unreachable target'; ErrorId = 'ConnectionFailed'; Category = 'ConnectionError'; Run = { param($f) Compare-MoltData $f.Src $f.Closed -SourceCredential $f.Pg -TargetCredential $f.Pg } }
        @{ Flow = 'Compare-MoltData'; Given = 'the same database twice'; ErrorId = 'SourceIsTarget'; Category = 'InvalidArgument'; Run = { param($f) Compare-MoltData $f.Src $f.Src -SourceCredential $f.Pg -TargetCredential $f.Pg } }
        @{ Flow = 'Compare-MoltData'; Given = 'a -Table filter that matches nothing'; ErrorId = 'NoTablesMatched'; Category = 'ObjectNotFound'; Run = { param($f) Compare-MoltData $f.Src $f.Dst -SourceCredential $f.Pg -TargetCredential $f.Pg -Table 'no_such_*' } }
        @{ Flow = 'Compare-MoltData from MariaDB'; Given = 'a wrong source password'; ErrorId = 'AuthenticationFailed'; Category = 'AuthenticationError'; Run = { param($f) Compare-MoltData $f.MSrc $f.Dst -SourceCredential $f.WrongMaria -TargetCredential $f.Pg } }

        # Test-MoltConnection.
        @{ Flow = 'Test-MoltConnection'; Given = '-FetchId without -For Failback'; ErrorId = 'FetchIdNeedsFailback'; Category = 'InvalidArgument'; Run = { param($f) Test-MoltConnection -Source $f.Src -SourceCredential $f.Pg -FetchId 'bi' } }
        @{ Flow = 'Test-MoltConnection'; Given = 'an unknown scheme'; ErrorId = 'UnknownScheme'; Category = 'InvalidArgument'; Run = { param($f) Test-MoltConnection -Source 'oracle://app@127.0.0.1/orcl' } }
        @{ Flow = 'Test-MoltConnection'; Given = 'a wrong source password'; ErrorId = 'AuthenticationFailed'; Category = 'AuthenticationError'; Run = { param($f) Test-MoltConnection -Source $f.Src -SourceCredential $f.WrongPg } }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'MoltTestHarness.psm1') -Force
    Import-BuiltMolt
    $script:pg = Start-TestPostgres
    $script:maria = Start-TestMariaDb
    $script:pgAdmin = Get-TestAdminCredential $pg
    $script:mariaAdmin = Get-TestAdminCredential $maria

    New-TestDatabase $pg 'bi_src'
    Invoke-TestSql $pg 'bi_src' @'
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g;
CREATE TABLE tags (tag text PRIMARY KEY);
INSERT INTO tags VALUES ('a'), ('b');
'@
    Invoke-TestSql $pg 'bi_src' "SELECT pg_create_logical_replication_slot('bi_taken', 'pgoutput')"
    # A target that already holds a table of its own: a refusal must leave it, and add nothing beside it.
    New-TestDatabase $pg 'bi_dst'
    Invoke-TestSql $pg 'bi_dst' 'CREATE TABLE keep (id int PRIMARY KEY, v text); INSERT INTO keep VALUES (1, ''one''), (2, ''two'');'
    # Two composite-typed columns: no target type, so planning refuses both at once.
    New-TestDatabase $pg 'bi_types'
    Invoke-TestSql $pg 'bi_types' @'
CREATE TYPE pair AS (a int, b int);
CREATE TABLE shapes (id int PRIMARY KEY, p pair, q pair);
INSERT INTO shapes VALUES (1, ROW(1, 2), ROW(3, 4));
'@
    # No primary key and the default replica identity: its updates and deletes could not be applied.
    New-TestDatabase $pg 'bi_keyless'
    Invoke-TestSql $pg 'bi_keyless' 'CREATE TABLE log (at timestamptz NOT NULL, line text); INSERT INTO log VALUES (now(), ''x'');'

    Invoke-TestSql $maria '' @'
CREATE DATABASE bi_msrc;
CREATE TABLE bi_msrc.items (id bigint PRIMARY KEY, name varchar(50) NOT NULL);
INSERT INTO bi_msrc.items VALUES (1, 'a'), (2, 'b'), (3, 'c');
CREATE DATABASE bi_mzero;
SET SESSION sql_mode = '';
CREATE TABLE bi_mzero.visits (id int PRIMARY KEY, at datetime NOT NULL);
INSERT INTO bi_mzero.visits VALUES (1, '0000-00-00 00:00:00'), (2, '2024-01-02 03:04:05');
'@

    # A finished load and a stopped replication, for the refusals of what already exists.
    New-TestDatabase $pg 'bi_done'
    New-TestDatabase $pg 'bi_repl'
    $null = Start-MoltBulkLoad (Get-TestUri $pg 'bi_src') (Get-TestUri $pg 'bi_done') -SourceCredential $pgAdmin -TargetCredential $pgAdmin -FetchId 'bi_done_run' `
        -TableHandling DropAndRecreate -Force -Confirm:$false -ErrorAction Stop
    $null = Start-MoltReplication (Get-TestUri $pg 'bi_src') (Get-TestUri $pg 'bi_repl') -SourceCredential $pgAdmin -TargetCredential $pgAdmin -FetchId 'bi_repl_run' `
        -TableHandling DropAndRecreate -StopWhenCaughtUp -Force -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue

    $script:typeMapBad = Join-Path ([IO.Path]::GetTempPath()) "molt-badinput-$PID.json"
    Set-Content -LiteralPath $typeMapBad -Value '{ "not": "a list" }'
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $closedPort = $listener.LocalEndpoint.Port
    $listener.Stop()

    # What a case's script block sees as $f: the fixture's addresses and credentials.
    $script:f = [pscustomobject]@{
        Src       = Get-TestUri $pg 'bi_src'
        Dst       = Get-TestUri $pg 'bi_dst'
        Types     = Get-TestUri $pg 'bi_types'
        Keyless   = Get-TestUri $pg 'bi_keyless'
        Missing   = Get-TestUri $pg 'bi_no_such_db'
        Done      = Get-TestUri $pg 'bi_done'
        Repl      = Get-TestUri $pg 'bi_repl'
        Closed    = "postgres://app@127.0.0.1:$closedPort/bi_dst?sslmode=disable"
        MSrc      = Get-TestUri $maria 'bi_msrc'
        MZero     = Get-TestUri $maria 'bi_mzero'
        Pg        = $pgAdmin
        Maria     = $mariaAdmin
        WrongPg   = New-TestCredential $pg.AdminUser 'Wrong-Pa55'
        WrongMaria = New-TestCredential $maria.AdminUser 'Wrong-Pa55'
        TypeMapBad = $typeMapBad
        NoFolder  = Join-Path ([IO.Path]::GetTempPath()) "molt-no-such-folder-$PID" 'molt.log'
    }

    # Every user table's rows (count and digest), every schema, slot and publication of a PostgreSQL database.
    function Get-PgDigest([string] $Database) {
        $tables = Get-TestScalar $pg $Database @'
SELECT coalesce(string_agg(format('%I.%I', schemaname, tablename), ',' ORDER BY schemaname, tablename), '')
FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
'@
        $lines = [System.Collections.Generic.List[string]]::new()
        foreach ($table in ($tables -split ',' | Where-Object { $_ })) {
            $rows = Get-TestScalar $pg $Database "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM $table t"
            $lines.Add("$table $rows")
        }
        $lines.Add('schemas ' + (Get-TestScalar $pg $Database "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' ESCAPE '\'"))
        $lines.Add('publications ' + (Get-TestScalar $pg $Database "SELECT coalesce(string_agg(pubname, ',' ORDER BY pubname), '') FROM pg_publication"))
        $lines.Add('slots ' + (Get-TestScalar $pg $Database "SELECT coalesce(string_agg(slot_name || ' ' || coalesce(confirmed_flush_lsn::text, ''), ',' ORDER BY slot_name), '') FROM pg_replication_slots WHERE database = current_database()"))
        $lines -join "`n"
    }

    function Get-MariaDigest([string] $Database) {
        $tables = Get-TestScalar $maria '' "SELECT coalesce(group_concat(table_name ORDER BY table_name), '') FROM information_schema.tables WHERE table_schema = '$Database'"
        $lines = [System.Collections.Generic.List[string]]::new()
        foreach ($table in ($tables -split ',' | Where-Object { $_ })) {
            $columns = Get-TestScalar $maria '' "SELECT group_concat(concat('``', column_name, '``') ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '$Database' AND table_name = '$table'"
            $lines.Add("$table " + (Get-TestScalar $maria $Database "SELECT concat(count(*), ' ', coalesce(sum(crc32(concat_ws('|', $columns))), 0)) FROM ``$table``"))
        }
        $lines -join "`n"
    }

    function Get-FixtureDigest {
        [ordered]@{
            bi_src     = Get-PgDigest 'bi_src'
            bi_dst     = Get-PgDigest 'bi_dst'
            bi_types   = Get-PgDigest 'bi_types'
            bi_keyless = Get-PgDigest 'bi_keyless'
            bi_done    = Get-PgDigest 'bi_done'
            bi_repl    = Get-PgDigest 'bi_repl'
            postgres   = Get-PgDigest 'postgres'
            dbs        = Get-TestScalar $pg postgres 'SELECT string_agg(datname, '','' ORDER BY datname) FROM pg_database'
            bi_msrc    = Get-MariaDigest 'bi_msrc'
            bi_mzero   = Get-MariaDigest 'bi_mzero'
            mdbs       = Get-TestScalar $maria '' 'SELECT group_concat(schema_name ORDER BY schema_name) FROM information_schema.schemata'
        }
    }
}

AfterAll {
    if ($script:typeMapBad) { Remove-Item -LiteralPath $typeMapBad -ErrorAction SilentlyContinue }
    if ($script:pg) { $pg.Dispose() }
    if ($script:maria) { $maria.Dispose() }
}

Describe 'Bad input' {
    It '<Flow> refuses <Given> with <ErrorId>, changing nothing on either side' -ForEach $cases {
        $before = Get-FixtureDigest
        $record = $null
        $output = $null
        $ErrorActionPreference = 'Stop'
        try {
            # Warnings too: a refusal has nothing to continue, so it says nothing of checkpoints or how to go on. Each
            # record is kept as it comes, since the error ends the pipeline before an assignment would complete.
            $output = [System.Collections.Generic.List[object]]::new()
            & $Run $f 3>&1 | ForEach-Object { $output.Add($_) }
        } catch {
            $record = $_
        }
        $record | Should -Not -BeNullOrEmpty -Because "$Flow with $Given must fail"
        $record.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        $record.CategoryInfo.Category | Should -Be $Category
        # The error says what to do: a remedy as the recommended action, or a message that names the input.
        ($record.ErrorDetails.RecommendedAction + $record.Exception.Message) | Should -Not -BeNullOrEmpty
        $record.ScriptStackTrace | Should -Not -Match 'Molt\.Engine\.' -Because 'the error is the user''s, not a stack trace'
        @($output | Where-Object { $_ -isnot [Molt.ReplicationStatus] -and $_ -isnot [System.Management.Automation.WarningRecord] }) | Should -BeNullOrEmpty
        # A plan's own warnings (a table without a key) may come first; what a refusal must not claim is a stream to go on with.
        @($output | Where-Object { $_ -is [System.Management.Automation.WarningRecord] -and $_.Message -match 'checkpoint|continues it|keeps its WAL' }) |
            Should -BeNullOrEmpty
        $after = Get-FixtureDigest
        foreach ($key in $before.Keys) { $after[$key] | Should -Be $before[$key] -Because "$key must be as it was" }
    }
}

# A storage fault rather than a bad input, but the same promise: a target whose disk fills (a tablespace on a small
# tmpfs, so the server's own WAL keeps its room) fails the load or the stream with an error that says so, records
# exactly what is done, and once space returns -Resume finishes Equal with every row once.
Describe 'A target disk that fills' {
    BeforeAll {
        $script:root = [Environment]::IsPrivilegedProcess
        if ($root) {
            $script:mount = Join-Path ([IO.Path]::GetTempPath()) "molt-diskfull-$PID"
            $null = New-Item -ItemType Directory -Path $mount -Force
            # The new database alone takes ~8 MB of the tablespace (its copy of template1); the rows need ~25 MB more.
            & mount -t tmpfs -o size=22m tmpfs $mount
            if ($LASTEXITCODE -ne 0) { throw "mount -t tmpfs on $mount failed" }
            $null = New-Item -ItemType Directory -Path (Join-Path $mount 'ts')
            & chown postgres:postgres (Join-Path $mount 'ts')
            Invoke-TestSql $pg postgres "CREATE TABLESPACE bi_small LOCATION '$(Join-Path $mount 'ts')'"
            Invoke-TestSql $pg postgres 'CREATE DATABASE bi_full_dst TABLESPACE bi_small'
            New-TestDatabase $pg 'bi_full_src'
            Invoke-TestSql $pg 'bi_full_src' @'
CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL);
INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 150000) g;
ANALYZE;
'@
            $script:fullSrc = Get-TestUri $pg 'bi_full_src'
            $script:fullDst = Get-TestUri $pg 'bi_full_dst'
        }

        function Get-DuplicateCount {
            Get-TestScalar $pg 'bi_full_dst' 'SELECT count(*) - count(DISTINCT id) FROM big'
        }
    }

    AfterAll {
        if ($script:mount -and $root) {
            Invoke-TestSql $pg postgres 'DROP DATABASE IF EXISTS bi_full_dst WITH (FORCE)'
            Invoke-TestSql $pg postgres 'DROP TABLESPACE IF EXISTS bi_small'
            & umount $mount
            Remove-Item -LiteralPath $mount -Recurse -Force -ErrorAction SilentlyContinue
        }
    }

    It 'fails a bulk load that fills it naming the full disk, records the table failed, and a -Resume after space returns is Equal with every row once' {
        if (-not $root) { Set-ItResult -Skipped -Because 'mounting a small tmpfs for the target needs root'; return }
        $failure = $null
        $results = @(Start-MoltBulkLoad $fullSrc $fullDst -SourceCredential $pgAdmin -TargetCredential $pgAdmin -FetchId 'full' -TableHandling DropAndRecreate `
                -ShardsPerTable 4 -Force -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failure -WarningAction SilentlyContinue)
        $summary = $results | Where-Object { $_ -is [Molt.BulkLoadSummary] }
        $table = $results | Where-Object { $_ -isnot [Molt.BulkLoadSummary] }
        $summary.Status | Should -Be 'Failed'
        $table.Status | Should -Be 'Failed'
        $failure | Should -Not -BeNullOrEmpty
        "$($failure | ForEach-Object { "$($_.FullyQualifiedErrorId) $_ $($_.ErrorDetails.RecommendedAction)" })" | Should -Match 'TargetDiskFull'
        # What the state says is what the target holds: the run failed, and no shard is recorded done that is not in.
        Get-TestScalar $pg 'bi_full_dst' "SELECT status FROM _molt.fetch_runs WHERE fetch_id = 'full'" | Should -Be 'Failed'
        Get-TestScalar $pg 'bi_full_dst' "SELECT coalesce(sum(rows_loaded), 0) FROM _molt.fetch_shards WHERE fetch_id = 'full' AND status = 'done'" |
            Should -Be (Get-TestScalar $pg 'bi_full_dst' 'SELECT count(*) FROM big')
        Get-TestScalar $pg 'bi_full_dst' "SELECT count(*) FROM _molt.fetch_shards WHERE fetch_id = 'full' AND status <> 'done'" | Should -BeGreaterThan 0

        & mount -o remount,size=128m tmpfs $mount
        $LASTEXITCODE | Should -Be 0
        $resumed = @(Start-MoltBulkLoad $fullSrc $fullDst -SourceCredential $pgAdmin -TargetCredential $pgAdmin -FetchId 'full' -Resume -Force -Confirm:$false -ErrorAction Stop)
        ($resumed | Where-Object { $_ -is [Molt.BulkLoadSummary] }).Status | Should -Be 'Succeeded'
        Get-TestScalar $pg 'bi_full_dst' 'SELECT count(*) FROM big' | Should -Be 150000
        Get-DuplicateCount | Should -Be 0
        (Compare-MoltData $fullSrc $fullDst -SourceCredential $pgAdmin -TargetCredential $pgAdmin).Status | Should -Be 'Equal'
    }

    It 'stops a stream that fills it naming the full disk with its checkpoint where it was, and a Resume after space returns is Equal with every change once' {
        if (-not $root) { Set-ItResult -Skipped -Because 'mounting a small tmpfs for the target needs root'; return }
        $null = Start-MoltReplication $fullSrc $fullDst -SourceCredential $pgAdmin -TargetCredential $pgAdmin -FetchId 'fullrepl' -TableHandling DropAndRecreate `
            -StopWhenCaughtUp -Force -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue
        # A first change applied, so the stream has a checkpoint to keep.
        Invoke-TestSql $pg 'bi_full_src' "INSERT INTO big VALUES (0, 'first')"
        $null = Resume-MoltReplication $fullSrc $fullDst -SourceCredential $pgAdmin -TargetCredential $pgAdmin -FetchId 'fullrepl' -StopWhenCaughtUp -ErrorAction Stop -WarningAction SilentlyContinue
        $checkpoint = Get-TestScalar $pg 'bi_full_dst' "SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'fullrepl'"
        $checkpoint | Should -Not -BeNullOrEmpty
        # Fill what is left of the tmpfs, then write more on the source than the target could hold.
        $filler = Join-Path $mount 'filler'
        & dd if=/dev/zero "of=$filler" bs=1M 2>$null
        Invoke-TestSql $pg 'bi_full_src' "INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM generate_series(150001, 200000) g; UPDATE big SET v = 'changed' WHERE id BETWEEN 1 AND 1000"
        $failure = $null
        try {
            Resume-MoltReplication $fullSrc $fullDst -SourceCredential $pgAdmin -TargetCredential $pgAdmin -FetchId 'fullrepl' -StopWhenCaughtUp -ErrorAction Stop -WarningAction SilentlyContinue
        } catch {
            $failure = $_
        }
        $failure.FullyQualifiedErrorId | Should -BeLike 'TargetDiskFull,*'
        $failure.ErrorDetails.RecommendedAction | Should -Match 'resume'
        Get-TestScalar $pg 'bi_full_dst' "SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'fullrepl'" | Should -Be $checkpoint

        Remove-Item -LiteralPath $filler
        $null = Resume-MoltReplication $fullSrc $fullDst -SourceCredential $pgAdmin -TargetCredential $pgAdmin -FetchId 'fullrepl' -StopWhenCaughtUp -ErrorAction Stop -WarningAction SilentlyContinue
        Get-TestScalar $pg 'bi_full_dst' 'SELECT count(*) FROM big' | Should -Be 200001
        Get-TestScalar $pg 'bi_full_dst' "SELECT count(*) FROM big WHERE v = 'changed'" | Should -Be 1000
        Get-DuplicateCount | Should -Be 0
        (Compare-MoltData $fullSrc $fullDst -SourceCredential $pgAdmin -TargetCredential $pgAdmin).Status | Should -Be 'Equal'
        $null = Remove-MoltReplication $fullSrc $fullDst -SourceCredential $pgAdmin -TargetCredential $pgAdmin -FetchId 'fullrepl' -Confirm:$false
    }
}

# A position removed under Molt: the stream must stop with an error that names what happened, never start afresh
# and skip what it can no longer read.
Describe 'A slot removed under a running stream' {
    It 'stops the stream with ReplicationSlotNotFound and the checkpoint where it was, never skipping the changes written since' {
        New-TestDatabase $pg 'bi_slot_src'
        New-TestDatabase $pg 'bi_slot_dst'
        Invoke-TestSql $pg 'bi_slot_src' 'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, ''v'' FROM generate_series(1, 100) g;'
        $src = Get-TestUri $pg 'bi_slot_src'
        $dst = Get-TestUri $pg 'bi_slot_dst'
        $job = Start-MoltReplication $src $dst -SourceCredential $pgAdmin -TargetCredential $pgAdmin -FetchId 'bi_slot' -TableHandling DropAndRecreate `
            -StatusInterval '00:00:01' -AsJob -Force -Confirm:$false
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            # Changes written until one is streamed and checkpointed (those written during the load arrive with its snapshot).
            $streamed = { try { (Get-TestScalar $pg 'bi_slot_dst' "SELECT count(*) FROM _molt.replication_checkpoints WHERE fetch_id = 'bi_slot'") -eq 1 } catch { $false } }
            $next = 1000
            while (-not (& $streamed)) {
                if ([DateTime]::UtcNow -gt $deadline -or $job.State -ne 'Running') { throw "the stream did not apply a change: $($job.State)" }
                Invoke-TestSql $pg 'bi_slot_src' "INSERT INTO t VALUES ($next, 'streamed')"
                $next++
                Start-Sleep -Milliseconds 500
            }
            # A DBA's cleanup: end the walsender, then drop the slot before Molt takes it again (retried while it is active).
            $dropped = $false
            while (-not $dropped) {
                if ([DateTime]::UtcNow -gt $deadline) { throw 'the slot could not be dropped' }
                Invoke-TestSql $pg postgres "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'molt_bi_slot' AND active_pid IS NOT NULL"
                try {
                    Invoke-TestSql $pg postgres "SELECT pg_drop_replication_slot('molt_bi_slot')"
                    $dropped = $true
                } catch {
                    Start-Sleep -Milliseconds 20
                }
            }
            $checkpoint = Get-TestScalar $pg 'bi_slot_dst' "SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'bi_slot'"
            Invoke-TestSql $pg 'bi_slot_src' 'INSERT INTO t VALUES (102, ''after the drop'')'
            $job | Wait-Job -Timeout 120 | Out-Null
            $job.State | Should -Be 'Failed'
            $errors = $null
            $null = Receive-Job $job -ErrorAction SilentlyContinue -ErrorVariable errors -WarningAction SilentlyContinue
            $record = @($errors | Where-Object { $_.FullyQualifiedErrorId -like 'ReplicationSlotNotFound*' })
            $record | Should -Not -BeNullOrEmpty -Because "the job failed with: $($errors | ForEach-Object { "$($_.FullyQualifiedErrorId) $_" })"
            "$($record[0].Exception.Message) $($record[0].ErrorDetails.RecommendedAction)" | Should -Match 'molt_bi_slot'
            "$($record[0].Exception.Message) $($record[0].ErrorDetails.RecommendedAction)" | Should -Match 'Start-MoltReplication'
            Get-TestScalar $pg 'bi_slot_dst' "SELECT position FROM _molt.replication_checkpoints WHERE fetch_id = 'bi_slot'" | Should -Be $checkpoint
            Get-TestScalar $pg postgres "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'molt_bi_slot'" | Should -Be 0 -Because 'Molt must not make a new slot that skips what was written meanwhile'
            Get-TestScalar $pg 'bi_slot_dst' 'SELECT count(*) FROM t WHERE id = 102' | Should -Be 0
            (Get-MoltReplicationStatus -Target $dst -TargetCredential $pgAdmin -FetchId 'bi_slot').State | Should -Be 'Failed'
        } finally {
            $job | Stop-Job -PassThru | Remove-Job -Force
        }
    }
}
