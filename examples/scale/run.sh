#!/usr/bin/env bash
# The scale run: N applications (100,000 by default) x 7 judges of the Seoul prize, scored by
# `laurel score` (release build), reporting wall time and peak memory.
#   bash examples/scale/run.sh [APPLICATIONS] [JUDGES_PER_APPLICATION]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-100000}"; k="${2:-7}"
dir="target/scale-$n-$k"
[ -f "$dir/marks.json" ] || python3 examples/scale/generate.py "$dir" "$n" "$k"
cargo build --release --quiet --bin laurel
ls -l "$dir"/*.json | awk '{printf "  %s %.0f MB\n", $9, $5/1e6}'
/usr/bin/time -f "scored in %e s, peak memory %M KiB" target/release/laurel score \
  rubrics/seoul-smart-city-prize-2023 --applications "$dir/applications.json" \
  --marks "$dir/marks.json" --format csv > "$dir/results.csv"
echo "  $(($(wc -l < "$dir/results.csv") - 1)) rows in $dir/results.csv"
