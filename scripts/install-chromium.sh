#!/usr/bin/env bash
# Install Debian's chromium (headless screenshots of the audit's HTML page, the VS Code tests).
# Idempotent: does nothing when chromium is already on PATH.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq chromium >/dev/null 2>&1; then
  # A fresh machine may have no package index yet.
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq chromium >/dev/null
fi
command -v chromium >/dev/null
