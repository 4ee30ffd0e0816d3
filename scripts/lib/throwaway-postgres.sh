# Sourced (not run) by scripts/test.sh and bench/run.sh: provisions a throwaway PostgreSQL.
# Installs Debian's postgresql if it is missing, initdb's a private cluster in a temp folder, starts it on a
# free loopback port (fsync off: the data is thrown away) and removes the cluster when the calling script exits.
# Before sourcing, set `pg_script` to the name used in messages. Afterwards these are set:
#   pg_bin      PostgreSQL's bin folder          pg_port     the port it listens on (127.0.0.1)
#   pg_cluster  the temp folder (data/, server.log)   pg_connection  an ADO.NET connection string as superuser `postgres`
# `pg_extra_options` (optional) adds server options (`-c name=value ...`).

pg_script="${pg_script:-throwaway-postgres}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

find_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

pg_bin="$(find_pg_bin || true)"
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "$pg_script: PostgreSQL is not installed; installing Debian's postgresql package" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pg_bin="$(find_pg_bin)"
fi
[ -x "$pg_bin/initdb" ] || { echo "$pg_script: no initdb found after installing postgresql" >&2; exit 1; }

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
  echo "$pg_script: no free port found" >&2; return 1
}

pg_cluster="$(mktemp -d /tmp/roster-pg.XXXXXX)"
[ "$(id -u)" -eq 0 ] && chown postgres "$pg_cluster"
pg_port="$(free_port)"

pg_cleanup() {
  as_pg "$pg_bin/pg_ctl" -D "$pg_cluster/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_cluster"
}
trap pg_cleanup EXIT

as_pg "$pg_bin/initdb" -D "$pg_cluster/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_cluster/data" -l "$pg_cluster/server.log" -w -t 60 start -o \
  "-p $pg_port -k $pg_cluster -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400${pg_extra_options:+ $pg_extra_options}" \
  >/dev/null || { cat "$pg_cluster/server.log" >&2; exit 1; }
echo "$pg_script: throwaway PostgreSQL on 127.0.0.1:$pg_port ($("$pg_bin/postgres" --version))"

pg_connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
