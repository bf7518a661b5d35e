"""Peers of `cpn bench compute` (BENCHMARKS.md, "Computing power of a node").

    python3 bench/compute_peers.py measure [--n 1024] [--rounds 5] [--triad-elements 8388608]
    python3 bench/compute_peers.py table CPN_JSON PEERS_JSON OPENSSL_1 OPENSSL_ALL

`measure` times numpy (with the OpenBLAS it ships) the way cpn measures itself: FP64 and
FP32 `np.matmul` of n x n matrices into a preallocated output, counting 2 n^3 flops, on one
thread (threadpoolctl, or a child process with OPENBLAS_NUM_THREADS=1 when threadpoolctl is
missing) and on all threads; and the STREAM triad `a = b + s * c` as
`np.multiply(c, s, out=a); np.add(a, b, out=a)` on three preallocated f64 arrays, single
threaded (numpy's ufuncs use one thread). The triad is reported with STREAM's 24 bytes per
element, as cpn counts it, although numpy's two passes move 40 bytes per element (read c,
write a; read a and b, write a). Every kernel gets one untimed warm-up call that sizes a
round to about 0.25 s, then `--rounds` timed rounds; the figure is the median round.
Prints one JSON object.

`table` prints the Markdown table of a run: cpn's figures (from `cpn bench compute --json`),
numpy's, and openssl's SHA-256 rate from the output of `openssl speed -bytes 64 sha256`
(hashes/s = bytes/s / 64), with the ratios cpn / peer.
"""

import json
import os
import statistics
import subprocess
import sys
import time


def time_kernel(call, work, rounds, target_s=0.25):
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-6)
    calls = max(1, int(target_s / once + 0.999))
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        rates.append(work * calls / (time.perf_counter() - start))
    return {
        "median": statistics.median(rates),
        "min": min(rates),
        "max": max(rates),
        "rounds": rounds,
        "calls_per_round": calls,
    }


def gemm(n, rounds):
    import numpy as np

    out = {}
    for name, dtype in (("fp64", np.float64), ("fp32", np.float32)):
        rng = np.random.default_rng(1)
        a = rng.random((n, n)).astype(dtype)
        b = rng.random((n, n)).astype(dtype)
        c = np.empty((n, n), dtype)
        out[name] = time_kernel(
            lambda: np.matmul(a, b, out=c), 2.0 * n**3 / 1e9, rounds
        )
    return out


def triad(elements, rounds):
    import numpy as np

    b = np.arange(elements, dtype=np.float64) % 1000
    c = (np.arange(elements, dtype=np.float64) % 999) * 0.5
    a = np.ones(elements)
    s = 3.0

    def call():
        np.multiply(c, s, out=a)
        np.add(a, b, out=a)

    return time_kernel(call, 24.0 * elements / 1e9, rounds)


def single_thread(args):
    """The single-thread GEMM figures, through threadpoolctl or a child process."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        child = subprocess.run(
            [sys.executable, __file__, "gemm-child", str(args["n"]), str(args["rounds"])],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(child.stdout), "OPENBLAS_NUM_THREADS=1 in a child process"
    with threadpool_limits(limits=1, user_api="blas"):
        return gemm(args["n"], args["rounds"]), "threadpoolctl"


def measure(argv):
    import numpy as np

    args = {"n": 1024, "rounds": 5, "triad_elements": 8 << 20}
    it = iter(argv)
    for flag in it:
        key = flag.lstrip("-").replace("-", "_")
        args[key] = int(next(it))
    one, how = single_thread(args)
    result = {
        "numpy": np.__version__,
        "blas": blas_name(np),
        "threads": os.cpu_count(),
        "single_thread_by": how,
        "n": args["n"],
        "one_core": one,
        "all_cores": gemm(args["n"], args["rounds"]),
        "triad_one_core": triad(args["triad_elements"], args["rounds"]),
        "triad_elements": args["triad_elements"],
    }
    print(json.dumps(result))


def blas_name(np):
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f'{blas.get("name")} {blas.get("version")}'
    except Exception:  # noqa: BLE001 - only a label
        return "unknown"


def openssl_rate(path):
    """hashes/s from `openssl speed -bytes 64 sha256` output ('sha256  326251.19k')."""
    with open(path) as f:
        for line in f:
            words = line.split()
            if len(words) == 2 and words[0] == "sha256" and words[1].endswith("k"):
                return float(words[1][:-1]) * 1000 / 64
    raise SystemExit(f"no sha256 line in {path}")


def table(cpn_path, peers_path, openssl_one, openssl_all):
    with open(cpn_path) as f:
        cpn = json.load(f)
    with open(peers_path) as f:
        peers = json.load(f)
    kernels = {k["name"]: k for k in cpn["kernels"]}
    ssl1, ssl_all = openssl_rate(openssl_one), openssl_rate(openssl_all)
    rows = [
        ("FP64 GEMM, GFLOPS", "fp64_gemm", "numpy matmul", peers["one_core"]["fp64"]["median"], peers["all_cores"]["fp64"]["median"]),
        ("FP32 GEMM, GFLOPS", "fp32_gemm", "numpy matmul", peers["one_core"]["fp32"]["median"], peers["all_cores"]["fp32"]["median"]),
        ("SHA-256 64 B, M hashes/s", "sha256_64b", "openssl speed", ssl1, ssl_all),
        ("STREAM triad, GB/s", "stream_triad", "numpy multiply+add", peers["triad_one_core"]["median"], None),
        ("int32 multiply-add, GOPS", "int32_muladd", "-", None, None),
    ]
    print(f'numpy {peers["numpy"]} ({peers["blas"]}, single thread by {peers["single_thread_by"]}), n = {peers["n"]}; cpn n = {cpn["config"]["gemm_n"]}, {cpn["cores"]} threads')
    print()
    print("| kernel | cpn one core | peer one core | ratio | cpn all cores | peer all cores | ratio | peer |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")

    def fmt(v, scale):
        return "-" if v is None else f"{v / scale:,.1f}"

    def ratio(a, b):
        return "-" if b is None else f"{a / b:.2f}"

    for label, name, peer, p1, pall in rows:
        k = kernels[name]
        scale = 1e6 if name == "sha256_64b" else 1.0
        c1, call = k["one_core"]["median"], k["all_cores"]["median"]
        print(f"| {label} | {fmt(c1, scale)} | {fmt(p1, scale)} | {ratio(c1, p1)} | {fmt(call, scale)} | {fmt(pall, scale)} | {ratio(call, pall)} | {peer} |")
    eff = kernels["fp64_gemm"].get("efficiency")
    if eff is not None:
        print()
        print(f'FP64 peak {kernels["fp64_gemm"]["peak"]:.1f} GFLOPS ({cpn["peak"]["cores"]} cores x {cpn["peak"]["frequency_ghz"]:.3f} GHz x {cpn["peak"]["fp64_flops_per_cycle"]}); cpn efficiency {eff:.0%}')


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    if sys.argv[1] == "measure":
        measure(sys.argv[2:])
    elif sys.argv[1] == "gemm-child":
        print(json.dumps(gemm(int(sys.argv[2]), int(sys.argv[3]))))
    elif sys.argv[1] == "table":
        table(*sys.argv[2:6])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
