#!/usr/bin/env python3
"""Peer timings for the k-shortest-paths benchmark (crates/cpn-route/benches/yen.rs).

Usage: yen_peers.py CSV SOURCE TARGET K ROUNDS

CSV holds one directed arc per line, `from,to,weight` (no header), nodes numbered from 0.
The graph is built once, before any timing; then each tool answers the same query, the K
shortest loopless paths from SOURCE to TARGET by total weight, once untimed (the warm-up,
whose paths are the ones reported) and then ROUNDS timed times, or fewer once the timed
rounds of that tool have taken CPN_BENCH_PEER_BUDGET_S seconds (default 30; at least one
timed round always runs), because one networkx query on this grid takes most of a minute:

- networkx: `shortest_simple_paths` (Yen's algorithm with bidirectional Dijkstra), the first
  K paths of its generator;
- igraph: `Graph.get_k_shortest_paths` (Yen's algorithm in C), when importable.

Prints one JSON object on stdout: per tool its version, the rounds it ran, median/min/max
seconds per query, and the total weight of each path it returned, so that the caller can
check them against its own.
"""

import csv
import itertools
import json
import os
import platform
import statistics
import sys
import time


BUDGET_S = float(os.environ.get("CPN_BENCH_PEER_BUDGET_S", "30"))


def timed(query, rounds):
    """Runs query once untimed (its result is reported), then up to `rounds` timed times,
    stopping early once the timed rounds have used BUDGET_S seconds."""
    result = query()
    times = []
    while len(times) < rounds and (not times or sum(times) < BUDGET_S):
        start = time.perf_counter()
        query()
        times.append(time.perf_counter() - start)
    return result, {
        "rounds": len(times),
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
    }


def networkx_peer(nodes, arcs, source, target, k, rounds):
    try:
        import networkx
    except ImportError as e:
        return {"tool": "networkx", "skipped": f"networkx not importable: {e}"}
    g = networkx.DiGraph()
    g.add_nodes_from(range(nodes))
    g.add_weighted_edges_from(arcs)

    def query():
        paths = itertools.islice(
            networkx.shortest_simple_paths(g, source, target, weight="weight"), k
        )
        return [
            sum(g[u][v]["weight"] for u, v in itertools.pairwise(path)) for path in paths
        ]

    weights, times = timed(query, rounds)
    return {"tool": "networkx", "version": networkx.__version__, "weights": weights, **times}


def igraph_peer(nodes, arcs, source, target, k, rounds):
    try:
        import igraph
    except ImportError as e:
        return {"tool": "igraph", "skipped": f"igraph not importable: {e}"}
    g = igraph.Graph(n=nodes, edges=[(u, v) for u, v, _ in arcs], directed=True)
    arc_weights = [w for _, _, w in arcs]
    g.es["weight"] = arc_weights

    def query():
        paths = g.get_k_shortest_paths(
            source, to=target, k=k, weights="weight", mode="out", output="epath"
        )
        return [sum(arc_weights[e] for e in path) for path in paths]

    weights, times = timed(query, rounds)
    return {"tool": "igraph", "version": igraph.__version__, "weights": weights, **times}


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: yen_peers.py CSV SOURCE TARGET K ROUNDS")
    path = sys.argv[1]
    source, target, k, rounds = (int(a) for a in sys.argv[2:])
    with open(path, newline="") as f:
        arcs = [(int(u), int(v), int(w)) for u, v, w in csv.reader(f)]
    nodes = 1 + max(max(u, v) for u, v, _ in arcs)
    report = {
        "python": platform.python_version(),
        "nodes": nodes,
        "arcs": len(arcs),
        "rounds": rounds,
        "peers": [
            networkx_peer(nodes, arcs, source, target, k, rounds),
            igraph_peer(nodes, arcs, source, target, k, rounds),
        ],
    }
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
