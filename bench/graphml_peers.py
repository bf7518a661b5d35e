#!/usr/bin/env python3
"""Peer timings for the GraphML import benchmark (crates/cpn-topo/benches/zoo_import.rs).

Usage: graphml_peers.py DIR ROUNDS

Reads every *.graphml file in DIR into memory, then times ROUNDS full passes over all of
them with networkx.read_graphml and, when importable, igraph.Graph.Read_GraphML. Prints one
JSON object on stdout: per tool its version, median/min/max seconds per pass, and the node
and edge totals it read, so that the caller can check them against its own.

Disk I/O is kept out of the timings: networkx reads from io.BytesIO. igraph's reader needs
a real file descriptor, so it reads copies of the files placed in a RAM-backed temporary
folder (/dev/shm when present); what it pays for open() and read() there is memory traffic.
Each tool gets one untimed warm-up pass, which is also the pass that counts nodes and edges.
"""

import io
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings


def timed_passes(read_all, rounds):
    """Runs read_all once untimed (its result is the totals), then `rounds` timed times."""
    totals = read_all()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        read_all()
        times.append(time.perf_counter() - start)
    return totals, {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
    }


def networkx_peer(blobs, rounds):
    try:
        import networkx
    except ImportError as e:
        return {"tool": "networkx", "skipped": f"networkx not importable: {e}"}

    def read_all():
        nodes = edges = 0
        for blob in blobs:
            # force_multigraph keeps parallel edges, as cpn-topo does.
            g = networkx.read_graphml(io.BytesIO(blob), force_multigraph=True)
            nodes += g.number_of_nodes()
            edges += g.number_of_edges()
        return {"nodes": nodes, "edges": edges, "files_ok": len(blobs), "errors": []}

    totals, times = timed_passes(read_all, rounds)
    return {"tool": "networkx", "version": networkx.__version__, **totals, **times}


def igraph_peer(names, blobs, rounds):
    try:
        import igraph
    except ImportError as e:
        return {"tool": "igraph", "skipped": f"igraph not importable: {e}"}

    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    tmp = tempfile.mkdtemp(prefix="cpn-graphml-", dir=shm)
    try:
        paths = []
        for name, blob in zip(names, blobs):
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(blob)
            paths.append(path)

        def read_all():
            nodes = edges = ok = 0
            errors = []
            for path in paths:
                # igraph rejects some Zoo files (attr.type="integer" is not GraphML); the
                # failure is counted and reported, and its time stays in the pass.
                try:
                    g = igraph.Graph.Read_GraphML(path)
                except Exception as e:  # noqa: BLE001 - igraph raises InternalError
                    errors.append(f"{os.path.basename(path)}: {e}")
                    continue
                ok += 1
                nodes += g.vcount()
                edges += g.ecount()
            return {"nodes": nodes, "edges": edges, "files_ok": ok, "errors": errors}

        with warnings.catch_warnings():
            # igraph warns on every Zoo file that its `id` attribute shadows the GraphML id.
            warnings.simplefilter("ignore", RuntimeWarning)
            totals, times = timed_passes(read_all, rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"tool": "igraph", "version": igraph.__version__, **totals, **times}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: graphml_peers.py DIR ROUNDS")
    folder, rounds = sys.argv[1], int(sys.argv[2])
    names = sorted(n for n in os.listdir(folder) if n.endswith(".graphml"))
    blobs = []
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            blobs.append(f.read())
    report = {
        "python": platform.python_version(),
        "files": len(names),
        "rounds": rounds,
        "peers": [networkx_peer(blobs, rounds), igraph_peer(names, blobs, rounds)],
    }
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
