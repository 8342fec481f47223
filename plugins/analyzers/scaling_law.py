"""``xllm analyze scaling_law``: fit the paper's eq. 2 per language (Figure 3).

``S(X) = 100 − α·(γ·X)^β`` with γ given (``--gamma``) and α > 0, β ∈ (−1, 0) fitted from
(data size, score) points by bounded least squares in score space, started from several points
(the log-linear fit of ``log(100 − S) = log α + β·log(γX)`` and a grid over β with the best α for
each). Reports R² and RMSE, bootstrap intervals for α and β (residual bootstrap by default: it
keeps the design's data sizes, which matters with a handful of points per language), the data
needed for target scores, and a plot like Figure 3.

Points come from a CSV or JSON file (``--points``), one row per (language, data size):
``language,data_size,score`` or, for lm-eval output, ``language,data_size,results,task,metric``
where ``results`` is an lm-eval output folder or results JSON (relative to the points file).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.allocation import parse_count
from xllm_harness.analyzers import Analyzer, output_dir, pyplot, save_figure, write_csv, write_json
from xllm_harness.errors import InputError, MissingFileError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.scaling import CEILING, FORM, PowerLaw

BETA_BOUNDS = (-1.0 + 1e-6, -1e-6)
LOG_ALPHA_BOUNDS = (-30.0, 60.0)


@dataclass(frozen=True)
class Point:
    language: str
    data_size: float
    score: float
    source: str


# ----------------------------------------------------------------------------------------------
# Reading points


def _rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise MissingFileError(f"--points file {path} not found")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".json", ".jsonl"):
        try:
            if path.suffix.lower() == ".jsonl":
                rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                data = json.loads(text)
                rows = data.get("points") if isinstance(data, dict) else data
        except json.JSONDecodeError as err:
            raise InputError(f"--points file {path}: not valid JSON ({err})") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InputError(f"--points file {path}: expected a list of objects (or {{'points': [...]}})")
        return rows
    return list(csv.DictReader(text.splitlines()))


def _lm_eval_score(results: Path, task: str | None, metric: str, where: str) -> float:
    """One metric value from an lm-eval output folder (newest results_*.json) or results file."""
    if results.is_dir():
        files = sorted(results.rglob("results_*.json"), key=lambda p: p.name)
        if not files:
            raise MissingFileError(f"{where}: no lm-eval results_*.json under {results}")
        results = files[-1]
    elif not results.is_file():
        raise MissingFileError(f"{where}: lm-eval results {results} not found")
    table = json.loads(results.read_text(encoding="utf-8")).get("results", {})
    if task is None:
        if len(table) != 1:
            raise InputError(f"{where}: {results} holds tasks {', '.join(sorted(table))}; name one in 'task'")
        task = next(iter(table))
    if task not in table:
        raise InputError(f"{where}: task {task!r} not in {results} (has {', '.join(sorted(table))})")
    values = table[task]
    for key in (metric, f"{metric},none"):
        if isinstance(values.get(key), (int, float)):
            return float(values[key])
    keys = [k for k in values if k.split(",")[0] == metric and isinstance(values[k], (int, float))]
    if len(keys) == 1:
        return float(values[keys[0]])
    found = sorted(k for k in values if not k.endswith("_stderr") and "_stderr," not in k and k != "alias")
    raise InputError(
        f"{where}: metric {metric!r} not among {task}'s results in {results} ({', '.join(found)})"
    )


def read_points(path: str | Path, metric: str | None = None, score_scale: float = 1.0) -> list[Point]:
    """Points from a CSV/JSON file (see the module docstring); scores multiplied by ``score_scale``."""
    path = Path(path)
    points: list[Point] = []
    for number, row in enumerate(_rows(path), start=2 if path.suffix.lower() == ".csv" else 1):
        where = f"{path} row {number}"
        row = {str(k).strip(): v for k, v in row.items() if k is not None}
        lang = str(row.get("language") or "").strip()
        if not lang:
            raise InputError(f"{where}: missing 'language'")
        if row.get("data_size") in (None, ""):
            raise InputError(f"{where}: missing 'data_size'")
        try:
            size = parse_count(row["data_size"])
        except ValueError as err:
            raise InputError(f"{where}: data_size: {err}") from None
        if not (math.isfinite(size) and size > 0):
            raise InputError(f"{where}: data_size must be a positive number, got {row['data_size']!r}")
        if row.get("score") not in (None, ""):
            try:
                score = float(row["score"])
            except (TypeError, ValueError):
                raise InputError(f"{where}: score {row['score']!r} is not a number") from None
        elif row.get("results") not in (None, ""):
            row_metric = (row.get("metric") or metric or "").strip()
            if not row_metric:
                raise InputError(f"{where}: reading lm-eval results needs a 'metric' column or --metric")
            results = Path(str(row["results"])).expanduser()
            results = results if results.is_absolute() else path.parent / results
            score = _lm_eval_score(results, (row.get("task") or "").strip() or None, row_metric, where)
        else:
            raise InputError(f"{where}: give either 'score' or 'results' (an lm-eval output folder)")
        points.append(Point(lang, size, score * score_scale, where))
    if not points:
        raise InputError(f"--points file {path} has no rows")
    return points


def parse_per_language(values: list[str] | None, option: str) -> tuple[float | None, dict[str, float]]:
    """``0.5`` / ``ar=0.6`` values (repeatable, comma-separated) → (default for all, per-language)."""
    default: float | None = None
    per_lang: dict[str, float] = {}
    for value in values or []:
        for item in str(value).split(","):
            item = item.strip()
            if not item:
                continue
            key, _, number = item.rpartition("=")
            try:
                parsed = float(number)
            except ValueError:
                raise InputError(f"{option} {item!r}: expected NUMBER or LANG=NUMBER") from None
            if key:
                per_lang[key.strip()] = parsed
            else:
                default = parsed
    return default, per_lang


def read_gammas(values: list[str] | None) -> tuple[float | None, dict[str, float]]:
    """``--gamma`` values: numbers, ``lang=value`` pairs, or a similarity JSON (``{"gamma": {...}}``)."""
    files = [v for v in values or [] if v.endswith(".json")]
    default, per_lang = parse_per_language([v for v in values or [] if not v.endswith(".json")], "--gamma")
    for name in files:
        path = Path(name)
        if not path.is_file():
            raise MissingFileError(
                f"--gamma file {path} not found (write one with `xllm analyze similarity`)"
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        gammas = data.get("gamma") if isinstance(data, dict) else None
        if not isinstance(gammas, dict):
            raise InputError(f"--gamma file {path}: expected {{'gamma': {{language: value}}}}")
        per_lang.update({k: float(v) for k, v in gammas.items()})
    return default, per_lang


# ----------------------------------------------------------------------------------------------
# Fitting


def _residuals(params, x, s, gamma):
    import numpy as np

    log_alpha, beta = params
    return s - (CEILING - np.exp(log_alpha + beta * np.log(gamma * x)))


def _starts(x, s, gamma):
    """Initial (log α, β): the log-linear fit, and a β grid each with its least-squares α."""
    import numpy as np

    z = np.log(gamma * x)
    deficit = CEILING - s
    starts = []
    if np.all(deficit > 0) and np.ptp(z) > 0:
        beta, log_alpha = np.polyfit(z, np.log(deficit), 1)
        starts.append((log_alpha, beta))
    for beta in np.linspace(-0.95, -0.05, 7):
        basis = np.exp(beta * z)
        alpha = max(float(deficit @ basis / (basis @ basis)), 1e-6)
        starts.append((math.log(alpha), beta))
    lo = np.array([LOG_ALPHA_BOUNDS[0], BETA_BOUNDS[0]])
    hi = np.array([LOG_ALPHA_BOUNDS[1], BETA_BOUNDS[1]])
    return [np.clip(np.array(p, dtype=float), lo, hi) for p in starts]


def fit_law(x, s, gamma: float, starts=None) -> tuple[float, float, float]:
    """Best (α, β, cost) over the starts; bounded ``scipy.optimize.least_squares``."""
    import numpy as np
    from scipy.optimize import least_squares

    x = np.asarray(x, dtype=float)
    s = np.asarray(s, dtype=float)
    bounds = ([LOG_ALPHA_BOUNDS[0], BETA_BOUNDS[0]], [LOG_ALPHA_BOUNDS[1], BETA_BOUNDS[1]])
    if starts is None:
        alpha0, beta0 = profile_fit(x, s, gamma)
        starts = [np.array([math.log(alpha0[0]), beta0[0]]), *_starts(x, s, gamma)]
    best = None
    for start in starts:
        result = least_squares(
            _residuals, start, bounds=bounds, args=(x, s, gamma), method="trf", x_scale="jac"
        )
        if best is None or result.cost < best.cost:
            best = result
    assert best is not None
    return float(math.exp(best.x[0])), float(best.x[1]), float(best.cost)


def goodness(law: PowerLaw, x, s) -> dict[str, float]:
    import numpy as np

    s = np.asarray(s, dtype=float)
    residual = s - law.score(x)
    ss_res = float(residual @ residual)
    ss_tot = float(((s - s.mean()) ** 2).sum())
    return {
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        "rmse": math.sqrt(ss_res / len(s)),
    }


def profile_fit(x, s, gamma: float, grid: int = 200, refine: int = 60):
    """Vectorised fit of many point sets at once (rows of ``x`` and ``s``): (α, β) arrays.

    For fixed β the best α is linear least squares (``α = Σ d·z / Σ z²`` with ``d = 100 − S`` and
    ``z = (γX)^β``, kept > 0), so the fit is a 1-D search over β: a grid, then golden-section
    refinement around the best grid point. Used for the bootstrap (thousands of refits).
    """
    import numpy as np

    x = np.atleast_2d(np.asarray(x, dtype=float))
    s = np.atleast_2d(np.asarray(s, dtype=float))
    x = np.broadcast_to(x, s.shape)
    log_z = np.log(gamma * x)
    deficit = CEILING - s

    def sse(beta):  # beta: (B, K) → (sse, alpha), each (B, K)
        z = np.exp(beta[..., None] * log_z[:, None, :])
        alpha = np.maximum(np.einsum("bn,bkn->bk", deficit, z) / np.einsum("bkn,bkn->bk", z, z), 1e-12)
        resid = deficit[:, None, :] - alpha[..., None] * z
        return np.einsum("bkn,bkn->bk", resid, resid), alpha

    lo_b, hi_b = BETA_BOUNDS
    betas = np.linspace(lo_b, hi_b, grid)
    values, _ = sse(np.broadcast_to(betas, (len(s), grid)))
    best = values.argmin(1)
    step = betas[1] - betas[0]
    lo = np.clip(betas[best] - step, lo_b, hi_b)
    hi = np.clip(betas[best] + step, lo_b, hi_b)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(refine):
        b1 = hi - ratio * (hi - lo)
        b2 = lo + ratio * (hi - lo)
        f, _ = sse(np.stack([b1, b2], 1))
        left = f[:, 0] < f[:, 1]
        hi = np.where(left, b2, hi)
        lo = np.where(left, lo, b1)
    beta = (lo + hi) / 2
    _, alpha = sse(beta[:, None])
    return alpha[:, 0], beta


def bootstrap(law: PowerLaw, x, s, samples: int, method: str, seed: int):
    """(α, β) refitted on ``samples`` bootstrap resamples: an array of shape (k, 2).

    ``residual``: fitted values plus resampled residuals (inflated by √(n/(n−2)) for the two fitted
    parameters), at the observed data sizes. ``pairs``: resample (X, S) points; resamples with a
    single distinct X cannot be fitted and are dropped.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=float)
    s = np.asarray(s, dtype=float)
    n = len(s)
    fitted = law.score(x)
    if method == "residual":
        residual = s - fitted
        residual = (residual - residual.mean()) * math.sqrt(n / max(n - 2, 1))
        xb = np.broadcast_to(x, (samples, n))
        sb = fitted + residual[rng.integers(0, n, size=(samples, n))]
    elif method == "pairs":
        idx = rng.integers(0, n, size=(samples, n))
        xb, sb = x[idx], s[idx]
        ok = np.ptp(xb, axis=1) > 0
        xb, sb = xb[ok], sb[ok]
    else:
        raise InputError(f"--bootstrap-method must be 'residual' or 'pairs', got {method!r}")
    if len(sb) == 0:
        return np.zeros((0, 2))
    alpha, beta = profile_fit(xb, sb, law.gamma)
    return np.stack([alpha, beta], 1)


# ----------------------------------------------------------------------------------------------
# The analyzer


class ScalingLaw(Analyzer):
    name = "scaling_law"
    help = "fit S(X) = 100 - alpha*(gamma*X)^beta per language (paper eq. 2, Figure 3)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--points", required=True, help="CSV/JSON rows: language,data_size,score (or results,task,metric)"
        )
        parser.add_argument(
            "--gamma",
            action="append",
            required=True,
            metavar="G",
            help="language similarity in (0,1): a number for all, LANG=VALUE (repeatable), "
            "or similarity.json from `xllm analyze similarity`",
        )
        parser.add_argument("--metric", default=None, help="metric to read from lm-eval results (e.g. comet)")
        parser.add_argument(
            "--score-scale", type=float, default=1.0, help="multiply scores (100 for COMET in [0,1])"
        )
        parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (0: none)")
        parser.add_argument("--bootstrap-method", choices=["residual", "pairs"], default="residual")
        parser.add_argument("--confidence", type=float, default=0.95, help="interval level")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--target",
            action="append",
            metavar="T",
            help="score to reach: a number for every language or LANG=SCORE (repeatable): reports the data needed",
        )

    def run(self, args: argparse.Namespace) -> dict[str, Any]:
        import numpy as np

        out = output_dir(args.output)
        if not 0 < args.confidence < 1:
            raise InputError(f"--confidence must lie in (0, 1), got {args.confidence}")
        points = read_points(args.points, args.metric, args.score_scale)
        gamma_default, gammas = read_gammas(args.gamma)
        target_default, targets = parse_per_language(args.target, "--target")
        by_lang: dict[str, list[Point]] = {}
        for p in points:
            by_lang.setdefault(p.language, []).append(p)
        if max(p.score for p in points) <= 1.0 and args.score_scale == 1.0:
            print(
                "warning: every score is <= 1; the law's ceiling is 100 (use --score-scale 100 for COMET in [0, 1])",
                file=sys.stderr,
            )
        tail = (1 - args.confidence) / 2
        laws: dict[str, dict[str, Any]] = {}
        rows = []
        from tqdm.auto import tqdm

        for lang in tqdm(sorted(by_lang), desc="scaling_law", file=sys.stderr, disable=None):
            pts = by_lang[lang]
            gamma = gammas.get(lang, gamma_default)
            if gamma is None:
                raise InputError(
                    f"--gamma: no similarity for {lang!r}; give --gamma {lang}=VALUE or a default"
                )
            if not 0 < gamma < 1:
                raise InputError(f"--gamma for {lang!r} must lie in (0, 1), got {gamma}")
            x = np.array([p.data_size for p in pts])
            s = np.array([p.score for p in pts])
            if len(pts) < 3 or np.unique(x).size < 2:
                raise InputError(
                    f"{lang}: need at least 3 points over at least 2 data sizes to fit alpha and beta "
                    f"(got {len(pts)} points, {np.unique(x).size} sizes) in {args.points}"
                )
            alpha, beta, _ = fit_law(x, s, gamma)
            law = PowerLaw(alpha, beta, gamma, lang)
            entry: dict[str, Any] = {**law.to_dict(), **goodness(law, x, s), "n_points": len(pts)}
            entry["at_bound"] = bool(min(beta - BETA_BOUNDS[0], BETA_BOUNDS[1] - beta) < 1e-4)
            if entry["at_bound"]:
                print(
                    f"warning: {lang}: beta={beta:.6f} ended on a bound of (-1, 0): the law does not describe "
                    "these points well (check the scores, their scale and the data sizes)",
                    file=sys.stderr,
                )
            draws = None
            if args.bootstrap > 0:
                draws = bootstrap(law, x, s, args.bootstrap, args.bootstrap_method, args.seed)
                entry["alpha_ci"] = np.quantile(draws[:, 0], [tail, 1 - tail]).tolist()
                entry["beta_ci"] = np.quantile(draws[:, 1], [tail, 1 - tail]).tolist()
                entry["bootstrap"] = {"samples": len(draws), "method": args.bootstrap_method}
            target = targets.get(lang, target_default)
            if target is not None:
                entry["target"] = self._inverse(law, target, draws, tail)
            laws[lang] = entry
            rows.append(
                {
                    "language": lang,
                    **{k: entry[k] for k in ("alpha", "beta", "gamma", "r2", "rmse", "n_points")},
                    "alpha_lo": entry.get("alpha_ci", [None])[0],
                    "alpha_hi": entry.get("alpha_ci", [None, None])[1],
                    "beta_lo": entry.get("beta_ci", [None])[0],
                    "beta_hi": entry.get("beta_ci", [None, None])[1],
                    "target_score": entry.get("target", {}).get("score"),
                    "data_needed": entry.get("target", {}).get("data_size"),
                }
            )
        unknown = sorted(set(targets) - set(by_lang))
        if unknown:
            raise InputError(f"--target names languages without points: {', '.join(unknown)}")
        document = {
            "form": FORM,
            "points_file": str(args.points),
            "confidence": args.confidence,
            "laws": laws,
        }
        files = {
            "json": str(write_json(out / "laws.json", document)),
            "csv": str(write_csv(out / "laws.csv", rows)),
            "png": str(self._plot(out / "scaling_law.png", by_lang, laws)),
        }
        for row in rows:
            line = f"{row['language']}: alpha={row['alpha']:.4g} beta={row['beta']:.4f} gamma={row['gamma']:.3g} R2={row['r2']:.4f} RMSE={row['rmse']:.3g}"
            if row["beta_lo"] is not None:
                line += f" beta CI=[{row['beta_lo']:.4f}, {row['beta_hi']:.4f}]"
            if row["data_needed"] is not None:
                line += f" | {row['target_score']:g} needs X={row['data_needed']:,.0f}"
            print(line)
        return {"laws": laws, "files": files}

    @staticmethod
    def _inverse(law: PowerLaw, target: float, draws, tail: float) -> dict[str, Any]:
        import numpy as np

        result: dict[str, Any] = {"score": target, "data_size": law.data_for(target)}
        if draws is not None and len(draws):
            sizes = ((CEILING - target) / draws[:, 0]) ** (1.0 / draws[:, 1]) / law.gamma
            result["data_size_ci"] = np.quantile(sizes, [tail, 1 - tail]).tolist()
        return result

    @staticmethod
    def _plot(path: Path, by_lang: dict[str, list[Point]], laws: dict[str, dict[str, Any]]) -> Path:
        import numpy as np

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(7, 4.5))
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for i, lang in enumerate(sorted(by_lang)):
            color = colors[i % len(colors)]
            x = np.array([p.data_size for p in by_lang[lang]])
            s = np.array([p.score for p in by_lang[lang]])
            entry = laws[lang]
            law = PowerLaw(entry["alpha"], entry["beta"], entry["gamma"], lang)
            hi = max(x.max(), entry.get("target", {}).get("data_size") or 0)
            grid = np.geomspace(x.min() / 1.5, hi * 1.5, 200)
            ax.scatter(x, s, color=color, s=18, zorder=3)
            ax.plot(grid, law.score(grid), ":", color=color, label=f"{lang}: {law.label()}")
            if "target" in entry:
                ax.plot([entry["target"]["data_size"]], [entry["target"]["score"]], "*", color=color, ms=10)
        ax.set_xscale("log")
        ax.set_xlabel("translation data size X (examples)")
        ax.set_ylabel("score S")
        ax.set_title("Scaling law fit: S(X) = 100 − α·(γX)^β")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        return save_figure(fig, path)


@hookimpl
def xllm_analyzers() -> list[type[Analyzer]]:
    return [ScalingLaw]
