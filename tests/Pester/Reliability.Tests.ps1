# The fault suite's short run (issue 16), in CI: tests/Reliability/Invoke-MoltReliability.ps1 with a fixed seed and its
# short plan (every fault kind once across PostgreSQL and MariaDB replication, a kill of a bulk load, of a load under
# Start-MoltReplication and of a failback), each flow under a write load. The long run is the same command with -Minutes.
BeforeAll {
    $script:runner = Join-Path $PSScriptRoot '..' 'Reliability' 'Invoke-MoltReliability.ps1'
    $script:result = & $runner -Seed 16 | Select-Object -Last 1
}

Describe 'The fault suite, short run' {
    It 'injects every kind of fault, each survived with the documented resume, in every flow' {
        $result.Figures.Flow | Should -Be @('BulkLoad', 'Resume', 'PgReplication', 'Failback', 'MariaDbReplication')
        $injected = @($result.Faults | Where-Object Outcome -NotLike 'missed*')
        @($injected | Where-Object Flow -In 'PgReplication', 'MariaDbReplication' | Select-Object -ExpandProperty Fault -Unique).Count | Should -Be 12
        foreach ($fault in $result.Faults) { $fault.Survived | Should -BeTrue -Because "$($fault.Flow) $($fault.Fault) at $($fault.Point): $($fault.Outcome)" }
        foreach ($flow in $result.Figures) {
            $flow.Faults | Should -BeGreaterThan 0 -Because "$($flow.Flow) must have had a fault"
            $flow.Survived | Should -Be $flow.Faults -Because "every fault of $($flow.Flow) must be survived"
        }
    }

    It 'ends every flow with Compare-MoltData Equal, its own checks equal, no row twice and no password shown' {
        foreach ($flow in $result.Figures) {
            # The Resume flow is the start of PostgreSQL replication: its rows are checked at that flow's end.
            if ($flow.Flow -ne 'Resume') { $flow.RowsChecked | Should -BeGreaterThan 0 -Because "$($flow.Flow) must have checked rows" }
            $flow.Duplicates | Should -Be 0 -Because "$($flow.Flow) must hold each change once"
            $flow.Differences | Should -Be 0 -Because "$($flow.Flow) must end equal"
        }
        ($result.Figures | Where-Object Flow -In 'PgReplication', 'Failback', 'MariaDbReplication').ChangesChecked | ForEach-Object { $_ | Should -BeGreaterThan 0 }
        $result.PasswordLeaks | Should -Be 0
    }
}
