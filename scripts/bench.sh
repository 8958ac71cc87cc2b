#!/usr/bin/env bash
# Runs confab-bench against a release build of Confab on SQLite, then on
# PostgreSQL (a fresh database on 127.0.0.1:5432), and prints the figures.
#   scripts/bench.sh [confab-bench options, e.g. --scenario one-to-one]
# (needs: cargo build --release --bins)
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 20000
bin=$(scripts/target-dir)/release
work=$(mktemp -d)
port=18090
pgdb="confab_bench_$$"

cpu_ticks() { # pid: user + system clock ticks so far
  awk '{print $14 + $15}' "/proc/$1/stat"
}

run() { # database-url
  CONFAB_LOG=warn "$bin/confab" --bind "127.0.0.1:$port" --database-url "$1" \
    --auth-jwt-algorithm HS256 --auth-jwt-key bench-secret --auth-jwt-issuer confab-bench \
    --ws-requests-per-s 100000 --max-connections-per-ip 0 --signups-per-ip 0 >"$work/server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  local before; before=$(cpu_ticks $pid)
  local status=0
  "$bin/confab-bench" --url "ws://127.0.0.1:$port" "${@:2}" || status=$?
  if [ $status -ne 0 ]; then
    kill $pid 2>/dev/null || true
    exit $status
  fi
  if ! kill -0 $pid 2>/dev/null; then
    echo "the server died; its log:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  echo "server CPU during the run: $(( ($(cpu_ticks $pid) - before) * 1000 / $(getconf CLK_TCK) )) ms"
  echo "server RSS: $(ps -o rss= -p $pid) KiB"
  kill $pid; wait $pid 2>/dev/null || true
}

echo "== SQLite =="
run "sqlite://$work/bench.db" "$@"
echo "== PostgreSQL =="
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $pgdb"
trap 'psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)"; rm -rf "$work"' EXIT
run "postgres://postgres@127.0.0.1:5432/$pgdb" "$@"
