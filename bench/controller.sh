#!/usr/bin/env bash
# The controller under load on loopback (BENCHMARKS.md, "Controller"): durable decisions per
# second through the HTTP API with wrk, and the CPU that 10,000 agents heartbeating once a
# second cost the controller. Needs wrk (Debian package) and a release build.
#   bench/controller.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
cargo build --release -q -p cpn-cli
cpn=target/release/cpn
dir=$(mktemp -d)
port=$((20000 + RANDOM % 10000))
url="http://127.0.0.1:$port"
admin="cpn_bench_admin_$RANDOM$RANDOM"
CPN_ADMIN_TOKEN="$admin" CPN_LOG=warn "$cpn" serve --listen "127.0.0.1:$port" --data "$dir" \
    --scenario national --rate-limit 1000000 2>"$dir/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done
"$cpn" tenant create --server "$url" --token "$admin" bench
tenant=$("$cpn" token create --server "$url" --token "$admin" --tenant bench --role tenant 2>/dev/null)
agent=$("$cpn" token create --server "$url" --token "$admin" --tenant bench --role agent 2>/dev/null)

echo "== route decisions (POST /api/v1/route, durable), ${secs}s, 64 connections"
CPN_TOKEN="$tenant" wrk -t1 -c64 -d"${secs}s" --latency -s bench/route.lua "$url"
echo "== placements (POST /api/v1/place, one per call, durable), ${secs}s, 64 connections"
CPN_TOKEN="$tenant" wrk -t1 -c64 -d"${secs}s" --latency -s bench/place.lua "$url"
echo "== heartbeats: 10,000 agents at 10,000/s for ${secs}s"
"$cpn" bench heartbeats --server "$url" --token "$agent" --pid "$pid" --agents 10000 \
    --rate 10000 --seconds "$secs"
echo "== decision log: replayed offline (what a restart does)"
kill -TERM $pid; wait $pid 2>/dev/null || true
t0=$(date +%s.%N)
"$cpn" data verify --data "$dir"
echo "replay took $(awk "BEGIN{print $(date +%s.%N) - $t0}") s; store $(du -sh "$dir" | cut -f1)"
