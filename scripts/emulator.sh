#!/usr/bin/env bash
# Local AWS emulator (MiniStack) for the demo and the e2e tests.
#   scripts/emulator.sh up      create .venv, install the pinned MiniStack, start it, wait for health
#   scripts/emulator.sh down    stop the process recorded in .emulator/ministack.pid
#   scripts/emulator.sh status  print health; exit 1 when it is not answering
#   scripts/emulator.sh reset   wipe all emulator state
# No Docker is needed: MiniStack is a Python process and runs Node.js Lambdas as local processes.
# It runs with AUTH=true: SigV4 signatures are verified and IAM policies evaluated (users' policies,
# and each function's execution role for the function's own calls). The `test` key stays the
# account's root (allowed everything, signature not checked), which the deploy and the tests use.
set -euo pipefail

MINISTACK_VERSION="1.5.33"
# DuckDB is what the emulator's Athena runs queries with (without it Athena answers from a mock) and
# what its Firehose converts records to Parquet with; tested with this version (docs/ARCHITECTURE.md).
DUCKDB_VERSION="2.0.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STATE="$ROOT/.emulator"
PORT="${GATEWAY_PORT:-4566}"
URL="http://127.0.0.1:$PORT"
PID_FILE="$STATE/ministack.pid"
LOG_FILE="$STATE/ministack.log"
# Only what the platform deploys, plus what CloudFormation and the CDK bootstrap need.
SERVICES_LIST="s3,dynamodb,lambda,iam,sts,stepfunctions,sns,sqs,events,apigateway,cloudformation,logs,ssm,ecr,kms,cloudwatch,firehose,glue,athena,scheduler"

healthy() { curl -fsS -m 2 "$URL/_ministack/health" >/dev/null 2>&1; }
enforces_iam() { curl -fsS -m 2 "$URL/_ministack/health" 2>/dev/null | grep -q '"auth": *"enabled"'; }

install() {
  # Captured first: `pip show | grep -q` under pipefail fails when grep exits before pip does.
  local installed=""
  if [ -x "$VENV/bin/pip" ]; then installed="$("$VENV/bin/pip" show ministack 2>/dev/null || true)"; fi
  if ! grep -qx "Version: $MINISTACK_VERSION" <<<"$installed"; then
    echo "emulator: installing ministack $MINISTACK_VERSION into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "ministack==$MINISTACK_VERSION"
  fi
  local duckdb=""
  duckdb="$("$VENV/bin/pip" show duckdb 2>/dev/null || true)"
  if ! grep -qx "Version: $DUCKDB_VERSION" <<<"$duckdb"; then
    echo "emulator: installing duckdb $DUCKDB_VERSION into $VENV (Athena queries, Parquet conversion)" >&2
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION"
  fi
}

up() {
  if healthy; then
    if ! enforces_iam; then
      echo "emulator: the one running at $URL does not enforce IAM (started without AUTH=true); restart it: $0 down && $0 up" >&2
      return 1
    fi
    echo "emulator: already running at $URL" >&2
    return 0
  fi
  install
  mkdir -p "$STATE"
  echo "emulator: starting MiniStack at $URL (log: $LOG_FILE)" >&2
  # NODE_PATH gives the emulator's Lambda processes and CDK's own custom-resource
  # providers the project's real AWS SDK instead of the emulator's stubs.
  (
    cd "$STATE"
    # A daemon must not keep the caller's descriptors: under `flock <lock> ...` it would hold the lock for good.
    for fd in /proc/$BASHPID/fd/*; do fd="${fd##*/}"; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
    # The root key is pinned to `test`: the emulator treats its own AWS_ACCESS_KEY_ID as root too.
    env -u AWS_SESSION_TOKEN -u AWS_PROFILE AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
      AUTH=true BIND_HOST=127.0.0.1 MINISTACK_HOST=127.0.0.1 GATEWAY_PORT="$PORT" IOT_MTLS_ENABLED=0 \
      SERVICES="$SERVICES_LIST" ATHENA_ENGINE=duckdb NODE_PATH="$ROOT/node_modules" LOG_LEVEL="${EMULATOR_LOG_LEVEL:-WARNING}" \
      nohup "$VENV/bin/python" -m hypercorn ministack.app:app --bind "127.0.0.1:$PORT" \
      --log-level "${EMULATOR_LOG_LEVEL:-WARNING}" --keep-alive 75 >"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
  )
  for _ in $(seq 1 120); do
    if healthy; then
      echo "emulator: ready (pid $(cat "$PID_FILE"))" >&2
      return 0
    fi
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      echo "emulator: MiniStack exited during start; last log lines:" >&2
      tail -n 20 "$LOG_FILE" >&2 || true
      return 1
    fi
    sleep 0.5
  done
  echo "emulator: not healthy after 60 s; see $LOG_FILE" >&2
  return 1
}

down() {
  if [ -f "$PID_FILE" ]; then
    local pid
    pid="$(cat "$PID_FILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
      # MiniStack unpacks each Lambda worker's code under the temp dir (about 100 MB a function) and
      # never removes it; with no emulator left running nothing uses those copies.
      rm -rf "${TMPDIR:-/tmp}"/ministack-lambda-*
      echo "emulator: stopped (pid $pid)" >&2
    fi
    rm -f "$PID_FILE"
  else
    echo "emulator: no pid file; nothing started by this project is running" >&2
  fi
}

status() {
  if healthy; then
    curl -fsS -m 2 "$URL/_ministack/health"; echo
  else
    echo "emulator: not running at $URL" >&2
    return 1
  fi
}

reset() { curl -fsS -m 10 -X POST "$URL/_ministack/reset" >/dev/null && echo "emulator: state wiped" >&2; }

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  reset) reset ;;
  *) echo "usage: $0 up|down|status|reset" >&2; exit 2 ;;
esac
