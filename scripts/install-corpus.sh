#!/usr/bin/env bash
# Install a corpus of real-world Rust crate sources from Debian packages.
#
# Debian's librust-*-dev packages unpack crate sources into
#   /usr/share/cargo/registry/<crate>-<version>/
# This script is idempotent: already-installed packages are skipped, and
# packages that do not exist in the configured apt sources are skipped quietly.
#
# Usage: scripts/install-corpus.sh            install, then print .rs line counts
#        scripts/install-corpus.sh --list     print the package names and exit
#        scripts/install-corpus.sh --dirs     print the installed crate directories
#                                             (one per listed package) and exit
set -euo pipefail

# Crates chosen for heavy / varied use of `unsafe`.
CRATES=(
  tokio mio nix slab socket2 half num-traits ryu itoa indexmap ahash bytes
  memchr smallvec hashbrown
  crossbeam-utils crossbeam-channel crossbeam-deque crossbeam-epoch crossbeam-queue
  parking-lot parking-lot-core lock-api libc memmap2 arrayvec once-cell bumpalo
  scopeguard byteorder rayon rayon-core serde-json aho-corasick thread-local
)

REG=/usr/share/cargo/registry

# Crate directory shipped by an installed package (e.g. .../registry/tokio-1.24.2).
crate_dir() {
  local f
  while IFS= read -r f; do
    if [[ "$f" =~ ^$REG/[^/]+$ && -d "$f" ]]; then echo "$f"; return 0; fi
  done < <(dpkg -L "$1" 2>/dev/null || true)
  return 1
}

corpus_dirs() {
  local c
  for c in "${CRATES[@]}"; do crate_dir "librust-${c}-dev" || true; done
}

case "${1:-}" in
  --list) printf 'librust-%s-dev\n' "${CRATES[@]}"; exit 0 ;;
  --dirs) corpus_dirs; exit 0 ;;
esac

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

# (No `cmd | grep -q` here: with pipefail, grep's early exit SIGPIPEs the producer.)
installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]; }
available() {
  local out
  out=$(apt-cache policy "$1" 2>/dev/null || true)
  [[ "$out" =~ Candidate:\ [^\(] ]]
}

want=()
for c in "${CRATES[@]}"; do
  pkg="librust-${c}-dev"
  installed "$pkg" && continue
  if ! available "$pkg"; then
    # The package index may be stale/empty on a fresh machine: refresh once.
    if [[ -z "${_APT_UPDATED:-}" ]]; then
      $SUDO apt-get update -qq >/dev/null 2>&1 || true
      _APT_UPDATED=1
    fi
    available "$pkg" || { echo "skip: $pkg not available" >&2; continue; }
  fi
  want+=("$pkg")
done

if ((${#want[@]})); then
  echo "installing ${#want[@]} package(s): ${want[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
else
  echo "all corpus packages already installed"
fi

mapfile -t dirs < <(corpus_dirs)
corpus_lines=0
if ((${#dirs[@]})); then
  corpus_lines=$(find "${dirs[@]}" -name '*.rs' -type f -print0 | xargs -0 cat | wc -l)
fi
ncrates=$(find "$REG" -mindepth 1 -maxdepth 1 -type d | wc -l)
all_lines=$(find "$REG" -name '*.rs' -type f -print0 | xargs -0 cat | wc -l)
echo "corpus: ${#dirs[@]} listed crates, $corpus_lines lines of .rs"
echo "registry: $ncrates crate directories under $REG (incl. dependencies), $all_lines lines of .rs"
