"""Coverage of the scaling law's intervals: do 95 % intervals contain the true α and β 95 % of the time?

Six known laws (paper-like: S(100k) between 72 and 84, β from -0.2 to -0.5), seven data sizes from
10k to 1M, Gaussian noise of standard deviation 0.3 on the score; each of ``--fits`` simulated point
sets is fitted with every ``--bootstrap-method`` (the same point sets for all methods) and the
share of intervals that contain the true value is printed per language and overall, with the
binomial standard error of that share. The default method must reach at least 93 %.

    .venv/bin/python benchmarks/bench_law_coverage.py --fits 500 --bootstrap 1000
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from xllm_harness.analysis.scaling import PowerLaw
from xllm_harness.plugins.analyzers.scaling_law.fit import BOOTSTRAP_METHODS, FitSettings, fit_language

SIZES = np.array([1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6])
NOISE = 0.3
# (language, S(100k), beta, gamma): alpha follows from S(100k) = 100 - alpha * (gamma * 1e5) ** beta.
TRUE = [
    ("ar", 78.0, -0.30, 0.50),
    ("el", 80.0, -0.25, 0.55),
    ("hi", 72.0, -0.45, 0.40),
    ("tr", 75.0, -0.35, 0.45),
    ("vi", 82.0, -0.20, 0.60),
    ("zh", 84.0, -0.50, 0.62),
]


def laws() -> dict[str, PowerLaw]:
    return {
        lang: PowerLaw((100.0 - at_100k) / (gamma * 1e5) ** beta, beta, gamma, lang)
        for lang, at_100k, beta, gamma in TRUE
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fits", type=int, default=500, help="simulated point sets per language")
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples per fit")
    parser.add_argument("--methods", default=",".join(BOOTSTRAP_METHODS), help="methods to compare")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    methods = args.methods.split(",")
    rng = np.random.default_rng(args.seed)
    truth = laws()
    points = {
        lang: law.score(SIZES) + rng.normal(0, NOISE, (args.fits, len(SIZES))) for lang, law in truth.items()
    }
    print(
        f"{args.fits} fits x {len(truth)} languages, {len(SIZES)} sizes, noise {NOISE}, {args.bootstrap} resamples"
    )
    print(f"{'method':<12} {'lang':<5} {'alpha':>7} {'beta':>7} {'both':>7}  time")
    for method in methods:
        settings = FitSettings(bootstrap=args.bootstrap, method=method, confidence=0.95, seed=0)
        hits_all = {"alpha": 0, "beta": 0, "both": 0}
        started = time.perf_counter()
        for lang, law in truth.items():
            hits = {"alpha": 0, "beta": 0, "both": 0}
            for i, s in enumerate(points[lang]):
                entry = fit_language(
                    lang, SIZES, s, law.gamma, FitSettings(**{**settings.__dict__, "seed": i})
                )
                a = entry["alpha_ci"][0] <= law.alpha <= entry["alpha_ci"][1]
                b = entry["beta_ci"][0] <= law.beta <= entry["beta_ci"][1]
                hits["alpha"] += a
                hits["beta"] += b
                hits["both"] += a and b
            for key in hits:
                hits_all[key] += hits[key]
            print(
                f"{method:<12} {lang:<5} "
                + " ".join(f"{100 * hits[k] / args.fits:6.1f}%" for k in ("alpha", "beta", "both"))
            )
        total = args.fits * len(truth)
        se = 100 * math.sqrt(0.95 * 0.05 / total)
        print(
            f"{method:<12} {'all':<5} "
            + " ".join(f"{100 * hits_all[k] / total:6.1f}%" for k in ("alpha", "beta", "both"))
            + f"  {time.perf_counter() - started:.1f} s  (binomial s.e. at 95 %: {se:.1f} points)"
        )


if __name__ == "__main__":
    main()
