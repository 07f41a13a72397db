#!/usr/bin/env bash
# Builds the example wasm plugins and installs each where its rubric pins it by SHA-256, and the
# rhai interpreter every rhai plugin runs in (engine/runtime/rhai-runtime.wasm, embedded in the
# engine).
#   plugins/build.sh           build and install (then update the sha256 in the rubric)
#   plugins/build.sh --check   build and compare with the committed files; exit 1 if they differ
# The build is reproducible: paths are remapped, so the same toolchain gives the same bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
export RUSTFLAGS="--remap-path-prefix=$root=/laurel --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
export CARGO_TARGET_DIR="$here/target"
cargo build --quiet --manifest-path "$here/Cargo.toml" --release --locked --target wasm32-unknown-unknown \
  -p seoul-context-score -p weighted-score
# The interpreter on its own: built with the plugins, its dependencies' features would unify
# with theirs and change their bytes. rhai's hasher takes a seed at compile time: fixed, so
# that the same toolchain gives the same bytes (the seed only spreads hash buckets; scripts
# cannot observe it).
CONST_RANDOM_SEED=laurel-rhai-runtime \
  cargo build --quiet --manifest-path "$here/Cargo.toml" --release --locked --target wasm32-unknown-unknown \
  -p laurel-rhai-runtime
status=0
install() {
  local built="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/$1" dest="$root/$2"
  if [ "${CHECK:-0}" = 1 ]; then
    if cmp -s "$built" "$dest"; then
      echo "ok: $2 is what its source builds ($(sha256sum "$dest" | cut -c1-16)...)"
    else
      echo "stale: $2 differs from what its source builds; run plugins/build.sh and update the sha256" >&2
      status=1
    fi
  else
    cp "$built" "$dest"
    echo "installed $2 sha256 $(sha256sum "$dest" | cut -d' ' -f1)"
  fi
}
[ "${1:-}" = "--check" ] && CHECK=1
install seoul_context_score.wasm rubrics/seoul-smart-city-prize-2023/plugins/context-adjusted-score.wasm
install weighted_score.wasm plugins/fixtures/weighted-score.wasm
install laurel_rhai_runtime.wasm engine/runtime/rhai-runtime.wasm
exit $status
