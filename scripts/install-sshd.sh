#!/usr/bin/env bash
# OpenSSH's server, for the GPU runner's ssh backend test (tests/gpu/test_gpu_ssh.py starts its own
# sshd on 127.0.0.1 with a throwaway key). Idempotent and quick when already installed.
set -euo pipefail
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
if [[ ! -x /usr/sbin/sshd ]] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
  echo "install-sshd: installing openssh-server" >&2
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null
fi
# sshd refuses to start without its privilege separation directory (on tmpfs: gone after a reboot).
if [[ ! -d /run/sshd ]]; then $SUDO mkdir -p /run/sshd; fi
