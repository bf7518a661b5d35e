#!/usr/bin/env bash
# Builds the SimGrid peer of `cargo bench -p cpn-sim --bench master_worker`.
# Usage: bench/simgrid/build.sh OUTPUT   (needs g++ and SimGrid: apt-get install libsimgrid-dev)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/master_workers}"
flags="$(pkg-config --cflags --libs simgrid 2>/dev/null || echo -lsimgrid)"
# shellcheck disable=SC2086 # the pkg-config flags are words
exec g++ -std=c++17 -O2 -DNDEBUG -o "$out" "$here/master_workers.cpp" $flags
