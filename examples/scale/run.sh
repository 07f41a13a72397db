#!/usr/bin/env bash
# The scale run: N applications (100,000 by default) x 7 judges of the Seoul prize, scored by
# `laurel score` (release build), then through the API's batch path (`laurel serve`, then
# POST /v1/evaluate in requests of 1,000 applications, by examples/scale/api.py), reporting
# wall time and peak memory of each.
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

# The API: a server on a free port over a throwaway data folder.
rm -rf "$dir/api-data" "$dir/api-data.key" "$dir/api-data.mail"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/release/laurel serve --data "$dir/api-data" --listen "127.0.0.1:$port" --rate-limit 1000000 \
  > "$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "admin key" "$dir/serve.log" 2>/dev/null && break; sleep 0.1; done
key=$(sed -n 's/.*admin key (shown once; only its hash is stored): //p' "$dir/serve.log")
python3 examples/scale/api.py "$dir" "http://127.0.0.1:$port" "$key"
echo "  server peak memory $(awk '/VmHWM/ {print $2, $3}' /proc/$server/status)"
