"""The joint decision of `cpn route` written the way a researcher would with scipy and numpy:
for each request, Dijkstra (scipy.sparse.csgraph) from the ingress over the arcs with the
requested bandwidth free, then the service's candidate sites scored in one vectorised step
(end-to-end latency = 2 x path latency + processing; within the SLA budget; least latency,
ties on the lowest site id). Reads the files the Rust benchmark exports; prints its rate and
how many choices agree with cpn's."""
import csv
import sys
import time

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main(folder):
    arcs = read(f"{folder}/arcs.csv")
    src = np.array([int(a["src"]) for a in arcs])
    dst = np.array([int(a["dst"]) for a in arcs])
    lat = np.array([int(a["latency_us"]) for a in arcs], dtype=float)
    avail = np.array([int(a["available_bps"]) for a in arcs])
    nodes = int(max(src.max(), dst.max())) + 1
    site_router = np.array([int(s["router"]) for s in read(f"{folder}/sites.csv")])
    services = {}
    for s in read(f"{folder}/services.csv"):
        ids = np.array([int(x) for x in s["sites"].split()], dtype=np.int64)
        services[int(s["service"])] = (int(s["processing_us"]), int(s["max_latency_us"]), ids)
    requests = read(f"{folder}/requests.csv")
    # One matrix per distinct bandwidth need, built before timing, as cpn builds its graph once.
    # Latencies of 0 are stored as a tiny epsilon: scipy drops explicit zeros from a sparse matrix.
    graphs = {}
    for need in {int(r["min_bandwidth_bps"]) for r in requests}:
        keep = avail >= need
        w = np.where(lat[keep] == 0, 1e-9, lat[keep])
        graphs[need] = csr_matrix((w, (src[keep], dst[keep])), shape=(nodes, nodes))
    agree = 0
    start = time.perf_counter()
    for r in requests:
        processing, budget, ids = services[int(r["service"])]
        dist = dijkstra(graphs[int(r["min_bandwidth_bps"])], indices=int(r["ingress"]))
        total = 2 * np.round(dist[site_router[ids]]) + processing
        ok = np.isfinite(total)
        if budget >= 0:
            ok &= total <= budget
        if ok.any():
            order = np.lexsort((ids[ok], total[ok]))
            pick = int(ids[ok][order[0]])
        else:
            pick = -1
        agree += pick == int(r["cpn_site"])
    elapsed = time.perf_counter() - start
    print(f"scipy+numpy peer: {len(requests) / elapsed:.0f} decisions/s, {agree} of {len(requests)} choices equal to cpn's")
    print(f"peer_rate {len(requests) / elapsed:.1f}")


if __name__ == "__main__":
    main(sys.argv[1])
