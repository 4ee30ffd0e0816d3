#!/usr/bin/env bash
# Runs the whole test suite against SQLite and a throwaway PostgreSQL that this script provisions:
# installs Debian's postgresql if it is missing, initdb's a private cluster in a temp folder, starts it on a
# free loopback port, runs `dotnet test`, and removes the cluster afterwards. Any failure stops the run.
# Extra arguments go to `dotnet test` (e.g. --filter).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

pg_script="test.sh"
# shellcheck source=lib/throwaway-postgres.sh
source "$root/scripts/lib/throwaway-postgres.sh"

export ROSTER_TEST_POSTGRES="$pg_connection"
cd "$root"
dotnet test Api.sln --logger "console;verbosity=normal" "$@"
