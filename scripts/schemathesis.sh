#!/usr/bin/env bash
# Runs schemathesis against a freshly started Confab, checking that no
# generated request gets a 5xx and that every response matches the OpenAPI
# document the server publishes.
#
#   scripts/schemathesis.sh [database-url]   (default: a temporary SQLite file)
#
# Needs a debug build of confab (cargo build; found in cargo's target
# directory, so $CARGO_TARGET_DIR is honoured, or given as $CONFAB_BIN) and `schemathesis` on PATH or in
# $SCHEMATHESIS (CI installs it in a virtualenv).
set -euo pipefail
cd "$(dirname "$0")/.."

st=${SCHEMATHESIS:-schemathesis}
bin=${CONFAB_BIN:-$(scripts/target-dir)/debug/confab}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
db=${1:-sqlite://$work/schemathesis.db}
base=http://127.0.0.1:$port

CONFAB_LOG=warn "$bin" --bind "127.0.0.1:$port" --database-url "$db" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT

up=no
for _ in $(seq 1 600); do
  if curl -fs "$base/healthz" >/dev/null; then up=yes; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
if [ $up != yes ]; then
  echo "confab did not come up on $base; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

# The first account is an admin, so every endpoint can be reached.
token=$(curl -fs -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"name": "schemathesis-admin", "password": "schemathesis-password"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

status=0
"$st" run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,unsupported_method \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-60}" \
  --phases examples,coverage,fuzzing \
  --workers 1 \
  --seed 1 \
  --no-color || status=$?

if grep -q "panicked\|ERROR" "$work/server.log"; then
  echo "server log shows errors:" >&2
  cat "$work/server.log" >&2
  status=1
fi
exit $status
