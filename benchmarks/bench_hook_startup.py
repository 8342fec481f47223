"""What the lm-eval hook costs at interpreter start-up when lm_eval is never imported.

    python benchmarks/bench_hook_startup.py [--runs 20]

Reads ``python -X importtime -c pass`` and prints the hook module's import time as a share of the
whole start-up, plus start-up wall time with the hook on vs. switched off (XLLM_HARNESS_LM_EVAL_HOOK=0).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def startup(envs: list[dict], runs: int) -> list[float]:
    """Median wall time of `python -c pass` per environment, runs interleaved to share the noise."""
    times: list[list[float]] = [[] for _ in envs]
    for _ in range(runs):
        for i, env in enumerate(envs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"], env=env, capture_output=True, text=True
    )
    hook_us = total_us = 0
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        if name == "_xllm_harness_lm_eval_hook":
            hook_us = int(cumulative)  # an editable install adds setuptools' finder here, a wheel does not
        if not name.startswith(" "):
            total_us += int(cumulative)
    on, off = startup([env, dict(env, XLLM_HARNESS_LM_EVAL_HOOK="0")], args.runs)
    print(
        f"hook module import: {hook_us} us of {total_us} us top-level imports ({hook_us / max(total_us, 1):.1%})"
    )
    print(
        f"median `python -c pass`: hook on {on * 1000:.1f} ms, switched off {off * 1000:.1f} ms, ratio {on / off:.3f}"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys; print('lm_eval' in sys.modules, 'xllm_harness' in sys.modules)"],
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"lm_eval / xllm_harness imported at start-up: {loaded}")


if __name__ == "__main__":
    main()
