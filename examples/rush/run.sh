#!/usr/bin/env bash
# The deadline rush, rehearsed on this machine: a throwaway PostgreSQL cluster (fsync on), the
# schema migrated, PROCESSES `laurel serve` processes on it (release build), then
# examples/rush/rush.py for SECONDS: applicants submitting to the Seoul prize while AWARDS other
# awards run their expert rounds. Prints requests, p50 and p99 per route, errors, and each
# process's CPU. With nginx installed (`apt-get install -y nginx-light`), the clients talk to
# one nginx balancing over the processes (keep-alive upstream connections, a stopped process's
# requests retried on the others), as an installation would run; without it, or with
# PROXY=none, each client spreads its requests over the processes itself.
# STOP_ONE_AFTER=S stops the last process S seconds into the rush (SIGTERM, as a rolling restart
# does): behind nginx, its requests go to the others and none may fail.
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
pids_nginx=
cleanup() {
  [ -n "$pids_nginx" ] && kill "$pids_nginx" 2>/dev/null || true
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
proxy=()
nginx_bin=$(command -v nginx || true)
if [ -n "$nginx_bin" ] && [ "${PROXY:-nginx}" = nginx ]; then
  port=$(free_port)
  mkdir -p "$dir/nginx"
  {
    echo "daemon off; worker_processes 2; pid $dir/nginx/nginx.pid; error_log $dir/nginx/error.log warn;"
    [ "$(id -u)" = 0 ] && echo "user root;"
    echo "events { worker_connections 4096; }"
    echo "http {"
    echo "  access_log off; client_body_temp_path $dir/nginx/body; proxy_temp_path $dir/nginx/proxy;"
    echo "  fastcgi_temp_path $dir/nginx/f; uwsgi_temp_path $dir/nginx/u; scgi_temp_path $dir/nginx/s;"
    echo "  upstream laurel {"
    for b in "${bases[@]}"; do echo "    server ${b#http://} max_fails=2 fail_timeout=5s;"; done
    echo "    keepalive 64;"
    echo "  }"
    echo "  server {"
    echo "    listen 127.0.0.1:$port; client_max_body_size 16m;"
    echo "    location / {"
    echo "      proxy_pass http://laurel; proxy_http_version 1.1; proxy_set_header Connection \"\";"
    echo "      proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
    echo "      proxy_next_upstream error timeout;"
    echo "    }"
    echo "  }"
    echo "}"
  } > "$dir/nginx/nginx.conf"
  "$nginx_bin" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" > "$dir/nginx/out.log" 2>&1 &
  pids_nginx=$!
  for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.1; done
  proxy=(--proxy "nginx" "http://127.0.0.1:$port")
  echo "nginx on 127.0.0.1:$port in front of ${#bases[@]} process(es)"
fi
key=$(sed -n 's/.*admin key (shown once; only its hash is stored): //p' "$dir"/p*.log | head -1)
if [ ${#proxy[@]} -gt 0 ]; then targets=("${proxy[2]}"); else targets=("${bases[@]}"); fi
python3 examples/rush/rush.py --admin "$key" --seconds "$seconds" --awards "$awards" \
  ${proxy:+--proxy "${proxy[1]}"} --stop-one-after "${STOP_ONE_AFTER:-0}" --pids "$(IFS=,; echo "${pids[*]}")" "${targets[@]}"
