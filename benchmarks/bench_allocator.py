"""Water-filling allocator vs a general solver (SLSQP) on random instances.

    python benchmarks/bench_allocator.py [--sizes 6,50,200] [--seeds 3]

For each size and seed: wall time of the exact water-filling (best of 20 runs) and of SLSQP
(one run, log-share variables: :func:`xllm_harness.analysis.allocation.scipy_reference`), their speed ratio,
the largest allocation difference relative to the budget, and the objective difference.
"""

from __future__ import annotations

import argparse
import statistics
import time

from xllm_harness.analysis import allocation as alloc


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6,50,200")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'n':>5} {'seed':>4} {'water-fill ms':>14} {'SLSQP ms':>10} {'ratio':>9} {'max|dX|/C':>10} {'dObjective':>11}"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        ratios = []
        for seed in range(args.seeds):
            laws, caps, budget = alloc.random_instance(n, seed)
            t_exact = best_time(lambda: alloc.water_fill(laws, budget, caps), 20)  # noqa: B023
            start = time.perf_counter()
            general = alloc.scipy_reference(laws, budget, caps)
            t_general = time.perf_counter() - start
            exact = alloc.water_fill(laws, budget, caps)
            diff = max(abs(exact[k] - general[k]) for k in exact) / budget
            d_obj = alloc.mean_score(laws, exact) - alloc.mean_score(laws, general)
            ratios.append(t_general / t_exact)
            print(
                f"{n:>5} {seed:>4} {t_exact * 1e3:>14.3f} {t_general * 1e3:>10.1f} {ratios[-1]:>8.0f}x"
                f" {diff:>10.1e} {d_obj:>+11.1e}"
            )
        print(f"{n:>5} median speed-up of water-filling over SLSQP: {statistics.median(ratios):.0f}x")


if __name__ == "__main__":
    main()
