#!/usr/bin/env bash
# Abuse probe for accounts (issue 12): against a release build on loopback,
# 256 concurrent wrong logins (server RSS idle / peak / after), then a flood
# of sign-ups from one address (how many were accepted), on SQLite.
#   scripts/abuse-auth.sh [path/to/confab]   (default: the release build in cargo's target directory;
#   needs: cargo build --release --bin confab)
# Environment: LOGINS (256), SIGNUPS (1000), PARALLEL sign-up clients (16),
# SERVER_ARGS: extra server flags (e.g. "--password-hash-concurrency 256
# --password-hash-queue 256 --signups-per-ip 0" to see it without limits).
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 20000 2>/dev/null || true
bin=${1:-$(scripts/target-dir)/release/confab}
logins=${LOGINS:-256}
signups=${SIGNUPS:-1000}
parallel=${PARALLEL:-16}
port=${PORT:-18480}
base="http://127.0.0.1:$port"
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }

post() { # path json: prints the status code
  curl -s -o /dev/null -w '%{http_code}\n' -H 'content-type: application/json' \
    --data "$2" "$base$1"
}
export -f post
export base

CONFAB_LOG=warn "$bin" --bind "127.0.0.1:$port" --domain "127.0.0.1:$port" \
  --database-url "sqlite://$work/confab.db" ${SERVER_ARGS:-} >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
[ "$(post /api/v1/auth/register '{"name":"ada","password":"password-123"}')" = 201 ]
sleep 1
idle=$(rss_kib)

# Peak RSS, sampled every 20 ms while the flood runs.
(peak=0; while kill -0 "$pid" 2>/dev/null && [ ! -e "$work/stop" ]; do
   r=$(rss_kib); [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" >"$work/peak"; sleep 0.02
 done) &
sampler=$!
start=$(date +%s.%N)
seq 1 "$logins" | xargs -P "$logins" -I{} bash -c \
  'post /api/v1/auth/login "{\"name\":\"ada\",\"password\":\"wrong-{}\"}"' >"$work/logins"
end=$(date +%s.%N)
touch "$work/stop"; wait "$sampler" 2>/dev/null || true
sleep 2
after=$(rss_kib)
peak=$(cat "$work/peak" 2>/dev/null || echo "$idle")
health=$(curl -s -o /dev/null -w '%{http_code} in %{time_total}s' "$base/healthz")

echo "== $logins concurrent wrong logins ($(awk "BEGIN {printf \"%.1f\", $end - $start}") s)"
echo "answers: $(sort "$work/logins" | uniq -c | awk '{printf "%s x %s  ", $1, $2}')"
echo "server RSS: idle $((idle / 1024)) MiB, peak $((peak / 1024)) MiB, 2 s after $((after / 1024)) MiB (peak - idle: $(((peak - idle) / 1024)) MiB)"
echo "healthz after the flood: $health"

start=$(date +%s.%N)
seq 1 "$signups" | xargs -P "$parallel" -I{} bash -c \
  'post /api/v1/auth/register "{\"name\":\"flood{}\",\"password\":\"password-123\"}"' >"$work/signups"
end=$(date +%s.%N)
echo "== $signups sign-ups from one address, $parallel at a time ($(awk "BEGIN {printf \"%.1f\", $end - $start}") s)"
echo "answers: $(sort "$work/signups" | uniq -c | awk '{printf "%s x %s  ", $1, $2}')"
echo "accepted: $(grep -c '^201$' "$work/signups" || true) of $signups"
echo "server RSS at the end: $(($(rss_kib) / 1024)) MiB"
