#!/usr/bin/env python3
"""Peer timings for the single-source shortest paths benchmark (bench/sssp.sh, BENCHMARKS.md).

Usage:
  sssp_peers.py measure CSV SOURCE REPEAT [--skip-networkx] [--networkx-repeat N]
  sssp_peers.py table CPN_JSON PEERS_JSON [CPN_AFTER_JSON]

`measure` reads an arc CSV file (header `src,dst,weight`, one line per directed arc, node ids
from 0, as `cpn bench graph` writes it) and times one single-source search from SOURCE to
every node with each peer:

- scipy: `scipy.sparse.csgraph.dijkstra(csr_matrix, directed=True, indices=SOURCE)`
- igraph: `Graph.distances(source=SOURCE, weights="weight", mode="out")`
- networkx: `single_source_dijkstra_path_length(DiGraph, SOURCE)`

Loading the file and building each library's graph is not timed. Each peer gets one untimed
warm-up search, whose distances give the checksum (the sum of all finite distances, the same
figure `cpn bench sssp` prints), then REPEAT timed searches (networkx: --networkx-repeat,
default 3, because one search takes seconds). Prints one JSON object on stdout.

The node count is one more than the largest id in the file, as in cpn. Parallel arcs are
reduced to the lightest first, because scipy would add their weights and networkx would keep
the last one; a grid has none.

`table` prints a Markdown table from the JSON of `cpn bench sssp --json` and of `measure`:
median, min..max, the ratio peer median / cpn median, and whether the checksums agree. A
second cpn measurement, taken after the peers, is shown as a row of its own (its ratio shows
the drift of the machine during the run). It exits with status 1 if any checksum differs.
"""

import argparse
import json
import math
import platform
import statistics
import sys
import time


def load_arcs(path):
    """The arcs of the CSV file as three int64 numpy arrays, and the node count."""
    import numpy as np

    with open(path, "rb") as f:
        header = f.readline().strip()
    if header != b"src,dst,weight":
        sys.exit(f"{path}:1: expected the header `src,dst,weight`, found `{header.decode(errors='replace')}`")
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    src, dst, weight = data[:, 0], data[:, 1], data[:, 2]
    nodes = int(max(src.max(), dst.max())) + 1 if len(src) else 0
    # Lightest of each set of parallel arcs: sort by (src, dst, weight), keep the first.
    order = np.lexsort((weight, dst, src))
    src, dst, weight = src[order], dst[order], weight[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    return src[first], dst[first], weight[first], nodes


def timed(search, repeat):
    """One untimed warm-up search (its result is returned), then `repeat` timed ones."""
    result = search()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        search()
        times.append((time.perf_counter() - start) * 1e3)
    return result, {
        "ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "runs_ms": times,
        "repeat": repeat,
    }


def finite_sum(values):
    reached = checksum = 0
    for d in values:
        if math.isfinite(d):
            reached += 1
            checksum += int(d)
    return reached, checksum


def scipy_peer(arcs, source, repeat):
    try:
        import numpy as np
        import scipy
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra
    except ImportError as e:
        return {"tool": "scipy", "skipped": f"scipy not importable: {e}"}
    src, dst, weight, nodes = arcs
    start = time.perf_counter()
    graph = csr_matrix((weight.astype(np.float64), (src, dst)), shape=(nodes, nodes))
    load_s = time.perf_counter() - start
    dist, times = timed(lambda: dijkstra(graph, directed=True, indices=source), repeat)
    finite = dist[np.isfinite(dist)]
    return {
        "tool": "scipy",
        "call": "scipy.sparse.csgraph.dijkstra(csr_matrix, directed=True, indices=source)",
        "version": scipy.__version__,
        "numpy": np.__version__,
        **times,
        "reached": int(len(finite)),
        "checksum": int(finite.astype(np.int64).sum()),
        "build_s": load_s,
    }


def igraph_peer(arcs, source, repeat):
    try:
        import igraph
    except ImportError as e:
        return {"tool": "igraph", "skipped": f"igraph not importable: {e}"}
    src, dst, weight, nodes = arcs
    start = time.perf_counter()
    graph = igraph.Graph(n=nodes, edges=list(zip(src.tolist(), dst.tolist())), directed=True)
    graph.es["weight"] = weight.tolist()
    load_s = time.perf_counter() - start
    # distances() returns a list of lists of Python floats; building it is part of the call.
    dist, times = timed(
        lambda: graph.distances(source=source, weights="weight", mode="out"), repeat
    )
    reached, checksum = finite_sum(dist[0])
    return {
        "tool": "igraph",
        "call": 'Graph.distances(source=source, weights="weight", mode="out")',
        "version": igraph.__version__,
        **times,
        "reached": reached,
        "checksum": checksum,
        "build_s": load_s,
    }


def networkx_peer(arcs, source, repeat):
    try:
        import networkx
    except ImportError as e:
        return {"tool": "networkx", "skipped": f"networkx not importable: {e}"}
    src, dst, weight, nodes = arcs
    start = time.perf_counter()
    graph = networkx.DiGraph()
    graph.add_nodes_from(range(nodes))
    graph.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), weight.tolist()))
    load_s = time.perf_counter() - start
    dist, times = timed(
        lambda: networkx.single_source_dijkstra_path_length(graph, source, weight="weight"),
        repeat,
    )
    return {
        "tool": "networkx",
        "call": "single_source_dijkstra_path_length(DiGraph, source)",
        "version": networkx.__version__,
        **times,
        "reached": len(dist),
        "checksum": sum(dist.values()),
        "build_s": load_s,
    }


def measure(args):
    start = time.perf_counter()
    arcs = load_arcs(args.csv)
    load_s = time.perf_counter() - start
    src, _, weight, nodes = arcs
    if not 0 <= args.source < nodes:
        sys.exit(f"source {args.source} is not a node of {args.csv} (0 to {nodes - 1})")
    peers = [scipy_peer(arcs, args.source, args.repeat)]
    peers.append(igraph_peer(arcs, args.source, args.repeat))
    if args.skip_networkx:
        peers.append({"tool": "networkx", "skipped": "--skip-networkx"})
    else:
        peers.append(networkx_peer(arcs, args.source, args.networkx_repeat))
    report = {
        "python": platform.python_version(),
        "csv": args.csv,
        "nodes": nodes,
        "arcs": int(len(src)),
        "zero_weights": int((weight == 0).sum()),
        "source": args.source,
        "csv_load_s": load_s,
        "peers": peers,
    }
    json.dump(report, sys.stdout)
    print()


def ms(x):
    """Milliseconds with three significant figures or one decimal, whichever is longer."""
    return f"{x:.1f}" if x >= 100 else f"{x:.3g}"


def cpn_row(cpn, note, base):
    return (
        f"| cpn {cpn['version']} `ShortestPaths::run` ({cpn['repeat']} searches{note}) | "
        f"{ms(cpn['ms'])} | {ms(cpn['min_ms'])}..{ms(cpn['max_ms'])} | {cpn['ms'] / base:.2f} | "
        f"{cpn['reached']:,} | {cpn['checksum']} |"
    )


def table(args):
    with open(args.cpn_json) as f:
        cpn = json.load(f)
    with open(args.peers_json) as f:
        peers = json.load(f)
    base = cpn["ms"]
    print(
        f"Single-source shortest paths from node {cpn['source']}: {cpn['nodes']:,} nodes, "
        f"{cpn['arcs']:,} arcs; Python {peers['python']}"
    )
    print()
    print("| tool | median ms | min..max ms | ratio peer / cpn | reached | checksum |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    print(cpn_row(cpn, "", base))
    mismatch = False
    for p in peers["peers"]:
        if "skipped" in p:
            print(f"| {p['tool']} | skipped: {p['skipped']} | | | | |")
            continue
        same = p["checksum"] == cpn["checksum"] and p["reached"] == cpn["reached"]
        mismatch |= not same
        print(
            f"| {p['tool']} {p['version']} ({p['repeat']} searches) | {ms(p['ms'])} | "
            f"{ms(p['min_ms'])}..{ms(p['max_ms'])} | {p['ms'] / base:.2f} | {p['reached']:,} | "
            f"{'same' if same else 'MISMATCH ' + str(p['checksum'])} |"
        )
    if args.cpn_after_json:
        with open(args.cpn_after_json) as f:
            after = json.load(f)
        mismatch |= after["checksum"] != cpn["checksum"]
        print(cpn_row(after, ", after the peers", base))
    if mismatch:
        print("\nMISMATCH: a peer computed different distances", file=sys.stderr)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="time the peers on an arc CSV file")
    m.add_argument("csv")
    m.add_argument("source", type=int)
    m.add_argument("repeat", type=int)
    m.add_argument("--skip-networkx", action="store_true")
    m.add_argument("--networkx-repeat", type=int, default=3)
    t = sub.add_parser("table", help="print the comparison table")
    t.add_argument("cpn_json")
    t.add_argument("peers_json")
    t.add_argument("cpn_after_json", nargs="?")
    args = parser.parse_args()
    if args.command == "measure":
        measure(args)
    else:
        table(args)


if __name__ == "__main__":
    main()
