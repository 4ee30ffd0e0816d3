#!/usr/bin/env bash
# Runs the whole test suite against SQLite and a throwaway PostgreSQL that this script provisions:
# installs Debian's postgresql if it is missing, initdb's a private cluster in a temp folder, starts it on a
# free loopback port, runs `dotnet test`, and removes the cluster afterwards. Any failure stops the run.
# It also tells the tests where the PostgreSQL binaries are (ROSTER_TEST_PG_BIN) and, as root, which user runs them
# (ROSTER_TEST_PG_RUNAS): the reliability tests start and kill a private cluster of their own.
# Extra arguments go to `dotnet test` (e.g. --filter).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

pg_script="test.sh"
# shellcheck source=lib/throwaway-postgres.sh
source "$root/scripts/lib/throwaway-postgres.sh"

export ROSTER_TEST_POSTGRES="$pg_connection"

# The contract suite (tests/contracts): the vendors' official SDKs, pinned by package-lock.json.
# shellcheck source=lib/contracts-node.sh
source "$root/scripts/lib/contracts-node.sh"
# The console's browser tests (tests/Roster.Tests/Console) drive Debian's Chromium through Playwright (ExecutablePath):
# the package is installed when missing, and Playwright never downloads a browser of its own.
if [ ! -x /usr/bin/chromium ]; then
  echo "test.sh: Chromium is not installed; installing Debian's chromium package" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
export ROSTER_TEST_CHROMIUM=/usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# The reliability tests stop and restart PostgreSQL, so they run their own private cluster with the same binaries
# (and, as root, as the same user) instead of this shared one.
export ROSTER_TEST_PG_BIN="$pg_bin"
if [ "$(id -u)" -eq 0 ]; then export ROSTER_TEST_PG_RUNAS=postgres; else unset ROSTER_TEST_PG_RUNAS; fi
cd "$root"
# The run's output is also kept in a file so that, when it fails, the failed tests are printed again at the very end
# (their messages first, then their names): a CI log that keeps only its tail still names what failed.
run_log="$(mktemp -t roster-test-run.XXXXXX)"
set +e
dotnet test Api.sln --logger "console;verbosity=normal" "$@" 2>&1 | tee "$run_log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo
  echo "test.sh: dotnet test exited with $status. The failed tests' messages:"
  grep -E -A 25 '^\s+Failed [A-Za-z_]' "$run_log" | grep -v -E '^\s+at (System|Microsoft|Xunit)\.' | head -120 || true
  echo "test.sh: the failed tests:"
  grep -E '^\s+Failed [A-Za-z_]' "$run_log" | head -40 || true
fi
rm -f "$run_log"
exit "$status"
