#!/usr/bin/env bash
# Builds Molt (laying out the module in out/Molt) and runs every test project against real throwaway servers.
# Ends with one "N passed, N failed" line summing all test projects.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet build Molt.sln -c Release -nologo -v minimal || exit 1
dotnet test Molt.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# Each test project prints: "Passed!  - Failed:     0, Passed:    34, Skipped:     0, Total:    34, ..."
totals=$(grep -E '^(Passed|Failed)! +- Failed: ' "$log" | sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+).*/\1 \2 \3/' |
  awk '{f+=$1; p+=$2; s+=$3} END {printf "%d passed, %d failed, %d skipped", p, f, s}')
echo "tests: ${totals:-0 passed, 0 failed}"
if [ "$status" -ne 0 ]; then
  exit "$status"
fi
# A run in which no project reported a result ran no test.
grep -qE '^(Passed|Failed)! +- Failed: ' "$log" || { echo "no test project reported results" >&2; exit 1; }
