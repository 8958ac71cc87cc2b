#!/usr/bin/env bash
# Abuse probe (issue 12): starts a release build of Confab on loopback
# (SQLite, default limits) and runs each probe against it, printing the
# figures that docs/benchmarks.md records ("Abuse probe (issue 12)").
#   scripts/abuse.sh [probe ...]      (default: every probe in PROBES)
# Needs: cargo build --release --bin confab; bash, curl, python3, ss.
# Every client is on 127.0.0.0/8; the slow clients come from 127.0.1.x
# so that /healthz, asked from 127.0.0.1, is not under their per-IP cap.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 20000
bin=${CONFAB_BIN:-$(scripts/target-dir)/release/confab}
work=$(mktemp -d)
port=18190
write_timeout=10

# The probes, in order. Each is a function `probe_<name>` below; add new
# ones (login flood, sign-up flood) the same way and list them here.
PROBES=(slow_clients_one_address slow_clients_many_addresses stuck_reader)

start_server() {
  CONFAB_LOG=warn "$bin" --bind "127.0.0.1:$port" --domain "127.0.0.1:$port" \
    --database-url "sqlite://$work/confab.db" --ws-write-timeout-s "$write_timeout" \
    "$@" >"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server did not start; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
}

stop_server() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

rss_kib() { ps -o rss= -p "$pid" | tr -d ' '; }

register() { # name -> access token
  curl -fs "http://127.0.0.1:$port/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d "{\"name\": \"$1\", \"password\": \"password-123\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# 2,000 clients from one address that send half a request line: the
# per-IP cap (max_connections_per_ip) holds most of them off.
probe_slow_clients_one_address() {
  python3 scripts/abuse.py slow-clients "$port" "$pid" 2000 1
}

# 2,000 such clients from 20 addresses (100 each, under the per-IP cap):
# the server holds them all until http_header_timeout_s, within its
# descriptors, and /healthz still answers.
probe_slow_clients_many_addresses() {
  python3 scripts/abuse.py slow-clients "$port" "$pid" 2000 20
}

# A WebSocket client that sends requests and reads none of the replies.
probe_stuck_reader() {
  python3 scripts/abuse.py stuck-reader "$port" "$(register stuck)" "$write_timeout"
}

# Hooks for the login-flood and sign-up-flood probes (issue 12): write
# probe_login_flood / probe_signup_flood here and add them to PROBES.

trap 'stop_server; rm -rf "$work"' EXIT
start_server
echo "commit: $(git rev-parse --short HEAD)  server pid $pid, idle RSS $(rss_kib) KiB"
probes=("$@")
[ ${#probes[@]} -eq 0 ] && probes=("${PROBES[@]}")
for probe in "${probes[@]}"; do
  echo "== $probe"
  "probe_$probe"
  echo "server RSS after: $(rss_kib) KiB"
done
if ! kill -0 "$pid" 2>/dev/null; then
  echo "the server died; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
grep -c "accept failed" "$work/server.log" | sed 's/^/accept failures logged: /' || true
