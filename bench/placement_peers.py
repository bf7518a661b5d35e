"""The exact batch placement (docs/placement.md) solved by HiGHS through highspy, on one
instance JSON written by `cargo bench -p cpn-sched --bench placement`. One binary per
(request, site) pair; rows: one site per request, site compute, link bandwidth. One thread,
time limit CPN_BENCH_HIGHS_S seconds (default 60). Prints one JSON line: the incumbent's
objective (recomputed from its assignment, null when it has none), the best bound, the
status, the wall time of the solve (model building excluded) and the highspy version."""
import json
import os
import sys
import time
from importlib.metadata import version

import highspy


def main(path):
    with open(path) as f:
        inst = json.load(f)
    pairs = inst["pairs"]
    requests = inst["requests"]
    n_req, n_site = len(requests), len(inst["site_capacity"])
    site_row = n_req
    link_row = n_req + n_site
    lp = highspy.HighsLp()
    lp.num_col_ = len(pairs)
    lp.num_row_ = link_row + len(inst["link_capacity"])
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = [1000.0 - p["cost_ms"] for p in pairs]
    lp.col_lower_ = [0.0] * len(pairs)
    lp.col_upper_ = [1.0] * len(pairs)
    lp.row_lower_ = [-highspy.kHighsInf] * lp.num_row_
    lp.row_upper_ = ([1.0] * n_req + [float(c) for c in inst["site_capacity"]]
                     + [float(c) for c in inst["link_capacity"]])
    start, index, value = [0], [], []
    for p in pairs:
        r = requests[p["request"]]
        index.append(p["request"])
        value.append(1.0)
        index.append(site_row + p["site"])
        value.append(float(r["demand_tflops"]))
        for link in p["links"]:
            index.append(link_row + link)
            value.append(float(r["bandwidth_mbps"]))
        start.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    lp.integrality_ = [highspy.HighsVarType.kInteger] * len(pairs)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(os.environ.get("CPN_BENCH_HIGHS_S", "60")))
    h.passModel(lp)
    t0 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t0
    info = h.getInfo()
    objective = None
    if info.primal_solution_status == 2:  # kSolutionStatusFeasible
        x = h.getSolution().col_value
        objective = sum(1000.0 - p["cost_ms"] for p, v in zip(pairs, x) if v > 0.5)
    print(json.dumps({
        "objective": objective,
        "bound": info.mip_dual_bound,
        "status": h.modelStatusToString(h.getModelStatus()),
        "seconds": seconds,
        "highspy": version("highspy"),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
