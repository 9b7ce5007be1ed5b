#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests that need one (Debian's
# postgresql package): its data and socket in a new temp directory, no TCP
# port, trust authentication for the local user "postgres".
#   postgres.sh start STATE_DIR [NAME=VALUE ...]
#                                 starts it, with those settings in its
#                                 postgresql.conf (max_connections=200 unless
#                                 one says otherwise); writes STATE_DIR/conninfo
#   postgres.sh pause STATE_DIR   stops it as an administrator would (its
#                                 sessions end), keeping its data
#   postgres.sh resume STATE_DIR  starts the paused server again: the same
#                                 data, at the same conninfo
#   postgres.sh stop STATE_DIR    stops it and removes its data
set -euo pipefail

command=${1:?start, pause, resume or stop}
state=${2:?state directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x $bin/initdb ]] || { echo "postgres.sh: no PostgreSQL server (Debian: apt install postgresql)" >&2; exit 1; }

# The server refuses to run as root: it runs as Debian's postgres user then.
as_server() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The server on the data in $1, its socket there too.
serve() {
  as_server "$bin/pg_ctl" -D "$1/db" -l "$1/server.log" -w -t 60 \
    -o "-k $1 -c listen_addresses= -c fsync=off" start >/dev/null ||
    { cat "$1/server.log" >&2; exit 1; }
}

# The data directory of the server started in STATE_DIR.
data() {
  [[ -f $state/data ]] || { echo "postgres.sh: no server started in $state" >&2; exit 1; }
  cat "$state/data"
}

case $command in
  start)
    "$0" stop "$state" 2>/dev/null || true
    mkdir -p "$state"
    data=$(mktemp -d /tmp/cartwire-pg.XXXXXX)
    [[ $(id -u) -ne 0 ]] || chown postgres "$data"
    echo "$data" >"$state/data"
    as_server "$bin/initdb" -D "$data/db" -U postgres --auth=trust -E UTF8 --no-sync >"$data/initdb.log" 2>&1 ||
      { cat "$data/initdb.log" >&2; exit 1; }
    # Written into its configuration, so that a resume keeps them: the last of a name wins.
    printf '%s\n' max_connections=200 "${@:3}" >>"$data/db/postgresql.conf"
    serve "$data"
    echo "host=$data user=postgres dbname=postgres" >"$state/conninfo"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') for the tests: $(cat "$state/conninfo")"
    ;;
  pause)
    data=$(data)
    as_server "$bin/pg_ctl" -D "$data/db" -m fast -w stop >/dev/null
    ;;
  resume)
    data=$(data)
    if as_server "$bin/pg_ctl" -D "$data/db" status >/dev/null; then
      echo "postgres.sh: the server in $state is running, not paused" >&2
      exit 1
    fi
    serve "$data"
    ;;
  stop)
    [[ -f $state/data ]] || exit 0
    data=$(cat "$state/data")
    as_server "$bin/pg_ctl" -D "$data/db" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$data" "$state/data" "$state/conninfo"
    ;;
  *)
    echo "postgres.sh: start, pause, resume or stop, not '$command'" >&2
    exit 2
    ;;
esac
