"""The hold model in SimPy, the peer of `cargo bench -p cpn-sim --bench hold`.

n processes each loop on `yield env.timeout(expovariate)`, so n timeouts are pending at
every moment; each event popped schedules one more. For every size, prints one line
`PENDING EVENTS_PER_SECOND`: the median of the timed rounds. A round creates the
processes and runs n events untimed (the steady state), then times about `--events` more.
"""

import argparse
import random
import statistics
import sys
import time

import simpy

MEAN = 1.0


def round_rate(n, events, seed):
    rng = random.Random(seed)
    env = simpy.Environment()
    count = [0]

    def proc():
        expo = rng.expovariate
        timeout = env.timeout
        while True:
            yield timeout(expo(1.0 / MEAN))
            count[0] += 1

    for _ in range(n):
        env.process(proc())
    # Each unit of simulated time sees about n / MEAN events.
    env.run(until=MEAN)
    start_count = count[0]
    t0 = time.perf_counter()
    env.run(until=MEAN + events * MEAN / n)
    elapsed = time.perf_counter() - t0
    return (count[0] - start_count) / elapsed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1000,100000")
    p.add_argument("--events", type=int, default=500_000)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    print(f"SimPy {simpy.__version__}, Python {sys.version.split()[0]}", file=sys.stderr)
    for n in map(int, a.sizes.split(",")):
        rates = [round_rate(n, a.events, r) for r in range(a.rounds)]
        print(n, statistics.median(rates), flush=True)


if __name__ == "__main__":
    main()
