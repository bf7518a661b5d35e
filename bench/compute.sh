#!/usr/bin/env bash
# Computing power of a node (BENCHMARKS.md): `cpn bench compute` against numpy (OpenBLAS)
# and openssl, in one run, on this machine.
#
#   bench/compute.sh
#
# Builds cpn (release), measures with `cpn bench compute --json` (5 rounds of about 0.25 s
# per kernel, 1024 x 1024 matrices, three 64 MiB triad arrays), then numpy at the same n and
# triad size with bench/compute_peers.py, then `openssl speed -seconds 3 -bytes 64 sha256`
# on one core and with `-multi` on all cores, and prints one Markdown table of medians with
# the ratios cpn / peer (above 1 means cpn is faster). The peers come from
# bench/requirements.txt; openssl from the system.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet -p cpn-cli
cpn="${CARGO_TARGET_DIR:-target}/release/cpn"
work="$(mktemp -d "${TMPDIR:-/tmp}/cpn-compute.XXXXXX")"
trap 'rm -rf "$work"' EXIT
threads="$(nproc)"

"$cpn" bench compute --json >"$work/cpn.json"
n="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["gemm_n"])' "$work/cpn.json")"
elements="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["triad_elements"])' "$work/cpn.json")"
python3 bench/compute_peers.py measure --n "$n" --rounds 5 --triad-elements "$elements" >"$work/peers.json"
openssl speed -seconds 3 -bytes 64 sha256 >"$work/openssl-1.txt" 2>/dev/null
openssl speed -multi "$threads" -seconds 3 -bytes 64 sha256 >"$work/openssl-all.txt" 2>/dev/null

echo "$(rustc --version); $(openssl version); $(uname -srm); load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/compute_peers.py table "$work/cpn.json" "$work/peers.json" "$work/openssl-1.txt" "$work/openssl-all.txt"
if [[ -n "${CPN_BENCH_KEEP:-}" ]]; then
    cp "$work"/cpn.json "$work"/peers.json "$CPN_BENCH_KEEP"/
fi
