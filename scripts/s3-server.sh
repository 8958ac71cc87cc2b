#!/usr/bin/env bash
# Starts a local S3-compatible server for the media tests, unless one
# already answers: moto's server (PyPI `moto[server]`, a real HTTP server
# speaking the S3 REST protocol, multipart uploads and ranges included) on
# 127.0.0.1:${CONFAB_S3_PORT:-9000}, with the bucket `confab-test`.
# moto is installed into a venv under $TMPDIR on first use. The tests in
# tests/api/media.rs run against it when CONFAB_TEST_S3_ENDPOINT is set
# (this script prints the value to export).
set -euo pipefail
port="${CONFAB_S3_PORT:-9000}"
endpoint="http://127.0.0.1:$port"
bucket="confab-test"
answers() { curl -s -o /dev/null --max-time 2 "$endpoint/" ; }
if ! answers; then
  venv="${TMPDIR:-/tmp}/confab-s3-venv"
  if [ ! -x "$venv/bin/moto_server" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.1'
  fi
  log="${TMPDIR:-/tmp}/confab-s3-server.log"
  nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  for _ in $(seq 1 100); do
    answers && break
    sleep 0.1
  done
  answers || { echo "the S3 server did not start; see $log" >&2; exit 1; }
fi
# Creating an existing bucket is fine (moto answers 200 or 409).
curl -s -o /dev/null -X PUT "$endpoint/$bucket"
echo "CONFAB_TEST_S3_ENDPOINT=$endpoint"
