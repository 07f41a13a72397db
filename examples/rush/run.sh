#!/usr/bin/env bash
# The deadline rush, rehearsed on this machine: a throwaway PostgreSQL cluster (fsync on), the
# schema migrated, PROCESSES `laurel serve` processes on it (release build), then
# examples/rush/rush.py for SECONDS: applicants submitting to the Seoul prize while AWARDS other
# awards run their expert rounds. Prints requests, p50 and p99 per route, errors, and each
# process's CPU.
#   bash examples/rush/run.sh [PROCESSES] [SECONDS] [AWARDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
processes="${1:-3}"; seconds="${2:-60}"; awards="${3:-8}"
dir="$(pwd)/target/rush"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cargo build --release --quiet --bin laurel
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

rm -rf "$dir" && mkdir -p "$dir"
as_pg=()
if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$dir"; as_pg=(runuser -u postgres --); fi
pgport=$(free_port)
"${as_pg[@]}" "$pgbin/initdb" -D "$dir/pg" -A trust -U laurel -E UTF8 --no-sync >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w \
  -o "-p $pgport -c listen_addresses=127.0.0.1 -k $dir -c max_connections=200 -c fsync=on" start >/dev/null
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/pg" -m fast stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U laurel laurel
url="postgres://laurel@127.0.0.1:$pgport/laurel?sslmode=disable"
target/release/laurel migrate --store "$url" >/dev/null

bases=()
for i in $(seq "$processes"); do
  port=$(free_port)
  target/release/laurel serve --store "$url" --data "$dir/p$i" --key-file "$dir/data.key" \
    --listen "127.0.0.1:$port" --rate-limit 100000000 --rubrics rubrics > "$dir/p$i.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do grep -q "listening on" "$dir/p$i.log" 2>/dev/null && break; sleep 0.1; done
  bases+=("http://127.0.0.1:$port")
done
key=$(sed -n 's/.*admin key (shown once; only its hash is stored): //p' "$dir"/p*.log | head -1)
python3 examples/rush/rush.py --admin "$key" --seconds "$seconds" --awards "$awards" \
  --pids "$(IFS=,; echo "${pids[*]}")" "${bases[@]}"
