"""`xllm demo` stage by stage: the demo as shipped against a baseline in the same run.

    python benchmarks/bench_demo.py [--baseline-threads 2] [--runs 1] [--budget 180]

Runs `xllm demo` (offline, bundled samples) once as shipped (one thread per process, the two
evaluations side by side) and once with ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` set to
``--baseline-threads`` (the stack's default on a 2-core machine), each in a fresh output folder,
and prints each stage's time (from the demo's own stage lines), the total, the ratio baseline /
shipped per stage, the CPU seconds of all the demo's processes, and the total against ``--budget``
seconds. On a shared machine compare the ratios and CPU seconds; the wall total is meaningful on an
idle 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGE = re.compile(r"^\[(\d+)/\d+\] (.*?) \.\.\. ([0-9.]+) s$")
NAMES = ("build", "train", "eval", "leaderboard")


def run_demo(out: Path, threads: int | None) -> tuple[dict[str, float], float, float]:
    """Stage wall times, total wall time and the CPU seconds of every process the demo started."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(variable, None)
        if threads is not None:
            env[variable] = str(threads)
    cpu_before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "xllm_harness.cli", "demo", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
    )
    total = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before
    if done.returncode != 0:
        sys.exit(f"xllm demo failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    stages = {}
    for line in done.stderr.splitlines():
        found = STAGE.match(line.strip())
        if found:
            stages[NAMES[int(found.group(1)) - 1]] = float(found.group(3))
    return stages, total, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--budget", type=float, default=180.0, help="seconds the README promises")
    args = parser.parse_args()
    print(f"cpus: {len(os.sched_getaffinity(0))}, load average: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for run in range(args.runs):
            shipped = run_demo(Path(tmp) / f"shipped{run}", None)
            baseline = run_demo(Path(tmp) / f"baseline{run}", args.baseline_threads)
            rows.append((shipped, baseline))
    print(f"{'stage':<12} {'shipped s':>10} {f'{args.baseline_threads} threads s':>12} {'ratio':>7}")
    for name in (*NAMES, "total", "cpu"):
        for (shipped, s_total, s_cpu), (baseline, b_total, b_cpu) in rows:
            a = {"total": s_total, "cpu": s_cpu}.get(name, shipped.get(name, float("nan")))
            b = {"total": b_total, "cpu": b_cpu}.get(name, baseline.get(name, float("nan")))
            print(f"{name:<12} {a:>10.1f} {b:>12.1f} {b / a:>7.2f}")
    worst = max(s_total for (_, s_total, _), _ in rows)
    verdict = "within" if worst <= args.budget else "OVER"
    print(
        f"shipped demo: {worst:.0f} s wall, {verdict} the {args.budget:.0f} s budget "
        f"(load average now {os.getloadavg()[0]:.1f}; cpu = CPU seconds of all its processes)"
    )


if __name__ == "__main__":
    main()
