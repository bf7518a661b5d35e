#!/usr/bin/env bash
# Single-source shortest paths benchmark (BENCHMARKS.md): cpn against scipy, igraph and
# networkx, in one run, on one file.
#
#   bench/sssp.sh [--skip-networkx] [--networkx-repeat N]
#
# Builds cpn (release), writes the grid with `cpn bench graph` (CPN_BENCH_GRID, default 1000,
# so 1,000,000 nodes and 3,996,000 arcs; CPN_BENCH_SEED, default 1), times cpn with
# `cpn bench sssp` (CPN_BENCH_REPEAT searches, default 15, from node 0), then the peers on
# the same file with bench/sssp_peers.py, then cpn once more, and prints one Markdown table:
# medians, min..max, the ratio peer median / cpn median (the first cpn measurement), and
# whether every peer found the same distances (the checksum is the sum of all finite
# distances). cpn's second row shows how much the machine drifted during the run. Loading is
# never timed. Exits 1 if a checksum differs. The peers come from bench/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

grid="${CPN_BENCH_GRID:-1000}"
seed="${CPN_BENCH_SEED:-1}"
repeat="${CPN_BENCH_REPEAT:-15}"
source=0

cargo build --release --quiet -p cpn-cli
cpn=target/release/cpn
work="$(mktemp -d "${TMPDIR:-/tmp}/cpn-sssp.XXXXXX")"
trap 'rm -rf "$work"' EXIT

"$cpn" bench graph --grid "$grid" --seed "$seed" -o "$work/grid.csv"
# Writing back the file must not compete with the timings.
sync
sssp() { "$cpn" bench sssp --edges "$work/grid.csv" --source "$source" --repeat "$repeat" --json; }
sssp >"$work/cpn.json"
python3 bench/sssp_peers.py measure "$work/grid.csv" "$source" "$repeat" "$@" >"$work/peers.json"
sssp >"$work/cpn-after.json"
echo "grid ${grid}x${grid}, seed ${seed}; $(rustc --version); $(uname -srm)"
python3 bench/sssp_peers.py table "$work/cpn.json" "$work/peers.json" "$work/cpn-after.json"
