#!/usr/bin/env bash
# Refreshes the RustSec advisory snapshot CI checks offline (CI does not reach GitHub):
#   .ci/advisory-db/refresh.sh [CHECKOUT]
# CHECKOUT is a clone of https://github.com/rustsec/advisory-db (cloned into a temporary
# folder when not given). Keeps the advisories of every crate the two lock files name, the
# Rust toolchain's, and the list of crates covered, so that `.ci/advisories` can tell when a
# new dependency is not covered yet.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
src="${1:-}"
if [[ -z "$src" ]]; then
  src="$(mktemp -d)"
  git clone --quiet --depth 1 https://github.com/rustsec/advisory-db "$src"
fi
names="$(grep -h '^name = ' "$root/Cargo.lock" "$root/plugins/Cargo.lock" | sed 's/name = "\(.*\)"/\1/' | sort -u)"
rm -rf "$here/crates" "$here/rust"
mkdir -p "$here/crates"
for n in $names; do
  if [[ -d "$src/crates/$n" ]]; then
    cp -r "$src/crates/$n" "$here/crates/$n"
  fi
done
cp -r "$src/rust" "$here/rust"
printf '%s\n' $names > "$here/covered.txt"
{
  echo "commit $(git -C "$src" log -1 --format=%H)"
  echo "date $(git -C "$src" log -1 --format=%cI)"
  echo "licence CC0-1.0 (the RustSec advisory database, https://github.com/rustsec/advisory-db)"
} > "$here/SNAPSHOT"
echo "advisories of $(ls "$here/crates" | wc -l) of $(wc -l < "$here/covered.txt") crates, as of $(sed -n 's/^date //p' "$here/SNAPSHOT")"
