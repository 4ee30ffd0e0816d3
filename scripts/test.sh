#!/usr/bin/env bash
# Runs the whole test suite against SQLite and a throwaway PostgreSQL that this script provisions:
# installs Debian's postgresql if it is missing, initdb's a private cluster in a temp folder, starts it on a
# free loopback port, runs `dotnet test`, and removes the cluster afterwards. Any failure stops the run.
# It also tells the tests where the PostgreSQL binaries are (ROSTER_TEST_PG_BIN) and, as root, which user runs them
# (ROSTER_TEST_PG_RUNAS): the reliability tests start and kill a private cluster of their own.
# Extra arguments go to `dotnet test` (e.g. --filter).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

find_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

pg_bin="$(find_pg_bin || true)"
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "test.sh: PostgreSQL is not installed; installing Debian's postgresql package" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pg_bin="$(find_pg_bin)"
fi
[ -x "$pg_bin/initdb" ] || { echo "test.sh: no initdb found after installing postgresql" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  echo "test.sh: no free port found" >&2; return 1
}

cluster="$(mktemp -d /tmp/roster-pg.XXXXXX)"
[ "$(id -u)" -eq 0 ] && chown postgres "$cluster"
port="$(free_port)"

cleanup() {
  as_pg "$pg_bin/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$cluster"
}
trap cleanup EXIT

as_pg "$pg_bin/initdb" -D "$cluster/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 start -o \
  "-p $port -k $cluster -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
  >/dev/null || { cat "$cluster/server.log" >&2; exit 1; }
echo "test.sh: throwaway PostgreSQL on 127.0.0.1:$port ($("$pg_bin/postgres" --version))"

export ROSTER_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
# The reliability tests stop and restart PostgreSQL, so they run their own private cluster with the same binaries
# (and, as root, as the same user) instead of this shared one.
export ROSTER_TEST_PG_BIN="$pg_bin"
if [ "$(id -u)" -eq 0 ]; then export ROSTER_TEST_PG_RUNAS=postgres; else unset ROSTER_TEST_PG_RUNAS; fi
cd "$root"
dotnet test Api.sln --logger "console;verbosity=normal" "$@"
