#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment and install safety-ls into it.
# Usage: scripts/bootstrap.sh [--test]   (--test also installs the test dependencies)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

if [[ ! -x "$VENV/bin/python" ]]; then
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    # Debian splits venv support into its own package.
    echo "bootstrap: installing python3-venv" >&2
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
  fi
fi

extras=""
if [[ "${1:-}" == "--test" ]]; then extras="[test]"; fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT$extras" 2>&1 \
  | grep -v -e "^WARNING: Location" -e "is ignored: it is neither" || true
"$VENV/bin/safety-ls" --version >/dev/null
