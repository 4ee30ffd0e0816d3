#!/usr/bin/env bash
# The one benchmark command. Provisions a throwaway PostgreSQL (as scripts/test.sh does), builds Release, runs the
# benchmarks (bench/Roster.Bench) against the real service started as a child process, prints the summary table and
# writes bench/RESULTS.md. Usage:
#   bench/run.sh                     full recorded run (all five benchmarks, 5-minute soak) → bench/RESULTS.md
#   bench/run.sh --quick             smoke test: short phases, small scale, 1-minute soak   → bench/RESULTS.partial.md
#   bench/run.sh ingest|read|scale|soak|micro [options]   one benchmark                     → bench/RESULTS.partial.md
#   bench/run.sh ingest,read,scale [options]   a recorded run of the benchmarks listed          → bench/RESULTS.md
#   bench/run.sh ingest --baseline <git ref>   also builds that ref (a git worktree under /tmp) and alternates the same
#                                               ingest driver against both builds, each on its own database
# Options go to Roster.Bench (e.g. --soak-minutes 2, --duration 20, --concurrency 64, --no-sqlite-scale); see
# `dotnet bench/Roster.Bench/bin/Release/net10.0/Roster.Bench.dll` for the list. Not part of scripts/test.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

invocation="bench/run.sh${*:+ $*}"
command="all"
case "${1:-}" in
  ingest|read|scale|soak|micro|all|*,*) command="$1"; shift ;;
esac
baseline=""
args=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--baseline" ] && [ $# -ge 2 ]; then baseline="$2"; shift 2; else args+=("$1"); shift; fi
done
set -- "${args[@]+"${args[@]}"}"
out="bench/RESULTS.md"
# A comma-separated list (e.g. ingest,read,scale) is a recorded run of those benchmarks, like all.
if { [ "$command" != "all" ] && [[ "$command" != *,* ]]; } || [[ " $* " == *" --quick "* ]] || [[ " $* " == *" --service-env "* ]]; then
  out="bench/RESULTS.partial.md"
fi

echo "bench/run.sh: building Release"
dotnet build bench/Roster.Bench/Roster.Bench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly

baseline_args=()
if [ -n "$baseline" ]; then
  baseline_commit="$(git rev-parse --verify "$baseline^{commit}")"
  baseline_tree="$(mktemp -d /tmp/roster-baseline.XXXXXX)"
  git worktree add -q --detach "$baseline_tree" "$baseline_commit"
  echo "bench/run.sh: building the baseline $baseline ($baseline_commit) in $baseline_tree"
  dotnet build "$baseline_tree/src" -c Release -nologo -v quiet -clp:ErrorsOnly
  baseline_args=(--baseline-roster "$baseline_tree/src/bin/Release/net10.0/Roster.dll" --baseline-ref "$baseline ($baseline_commit)")
fi

pg_script="bench/run.sh"
# shellcheck source=../scripts/lib/throwaway-postgres.sh
source "$root/scripts/lib/throwaway-postgres.sh"

work="$(mktemp -d /tmp/roster-bench.XXXXXX)"
cleanup() {
  # Service processes the bench started and did not stop (it records their pids); only those, by id.
  if [ -f "$work/service.pids" ]; then
    while read -r pid; do
      if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "Roster.dll --urls"; then
        kill -TERM "$pid" 2>/dev/null || true
      fi
    done < "$work/service.pids"
  fi
  rm -rf "$work"
  if [ -n "${baseline_tree:-}" ]; then git -C "$root" worktree remove --force "$baseline_tree" >/dev/null 2>&1 || true; fi
  pg_cleanup
}
trap cleanup EXIT

dotnet bench/Roster.Bench/bin/Release/net10.0/Roster.Bench.dll "$command" \
  --roster "$root/src/bin/Release/net10.0/Roster.dll" \
  --pg "$pg_connection" \
  --pg-log "$pg_cluster/server.log" \
  --work "$work" \
  --out "$root/$out" \
  --command-line "$invocation" \
  "${baseline_args[@]+"${baseline_args[@]}"}" \
  "$@"
